"""Verified writing: a lesson enters only if the student does better with it."""

import json
import re

from fakes import RuleChatModel

from ted_graph.config import DistillConfig
from ted_graph.curation import write_from_critiques
from ted_graph.distill import distill
from ted_graph.verification import Candidate, Verifier

GOOD = "When animals are listed with numbers, add each number to the named animals."
USELESS = "When a question is long, read the question slowly and carefully twice."


def student_rule(prompt: str) -> str:
    """Right when the good lesson is in the prompt, wrong otherwise."""
    n = int(re.search(r"and (\d+) fish", prompt).group(1))
    return f"Answer: {2 + n}" if GOOD in prompt else "Answer: 99"


def problems(count=4):
    return [{"id": f"p{i}", "question": f"I have a cat, a dog and {i} fish. How many animals?",
             "answer": str(2 + i)} for i in range(1, count + 1)]  # fmt: skip


CFG = DistillConfig(
    verify=True, verify_problems=2, verify_temperature=0.7, verify_rollouts=2, min_similarity=0.0
)


def test_a_helpful_candidate_lifts_and_a_useless_one_does_not(library):
    student = RuleChatModel(rule=student_rule, calls=[])
    verifier = Verifier(student, library, problems(), CFG)
    train = problems()
    assert [p["id"] for p in verifier.neighbours(train[0], 2)] != ["p1"]
    assert len(verifier.neighbours(train[0], 2)) == 2
    good, useless = verifier.verdicts([Candidate(GOOD, train[0]), Candidate(USELESS, train[0])])
    assert (good.without, good.with_, good.rollouts) == (0.0, 1.0, 6)  # 3 problems x 2
    assert useless.lift == 0.0
    # both candidates share the baseline prompts: 3 without + 3 + 3 with, 2 rollouts each
    assert len(student.calls) == 9 * 2


def test_greedy_verification_asks_one_answer_per_problem_and_condition(library):
    student = RuleChatModel(rule=student_rule, calls=[])
    cfg = DistillConfig(verify=True, verify_problems=2, min_similarity=0.0)
    assert cfg.verify_temperature == 0.0  # the default: decoded as evaluation decodes
    (good,) = Verifier(student, library, problems(), cfg).verdicts([Candidate(GOOD, problems()[0])])
    assert (good.without, good.with_, good.rollouts) == (0.0, 1.0, 3)  # 3 problems x 1
    assert len(student.calls) == 6  # 3 without + 3 with, once each


def test_an_update_is_tried_in_place_of_the_text_it_replaces(library):
    old = library.add(USELESS)
    seen = []

    def rule(prompt):
        seen.append(prompt)
        return student_rule(prompt)

    verifier = Verifier(RuleChatModel(rule=rule, calls=[]), library, problems(1), CFG)
    (verdict,) = verifier.verdicts([Candidate(GOOD, problems(1)[0], replaces=old.id)])
    assert verdict.lift == 1.0
    with_prompts = [p for p in seen if GOOD in p]
    assert with_prompts and not any(USELESS in p for p in with_prompts)


def test_writing_keeps_only_verified_lessons_and_stores_their_lift(library):
    student = RuleChatModel(rule=student_rule, calls=[])
    ops = {"operations": [{"op": "ADD", "text": USELESS}, {"op": "ADD", "text": GOOD}]}
    report = write_from_critiques(
        library, lambda batch: [json.dumps(ops)] * len(batch),
        [("The student forgot the fish.", problems()[0])], step=0, cfg=CFG,
        verifier=Verifier(student, library, problems(), CFG),
    )  # fmt: skip
    assert (report.added, report.unverified) == (1, 1)
    (kept,) = library.all()
    assert kept.text == GOOD and kept.lift == 1.0 and kept.verified == 6
    assert kept.utility() > 0.5  # the measured lift counts before any use


def test_distill_with_verification_reports_refused_lessons():
    def teacher(prompt):
        if "reviewing a student's attempts" in prompt:
            return "The student forgot the fish.\nHelpful advice: none"
        if "lessons that would help on OTHER problems" in prompt:
            return json.dumps({"operations": [{"op": "ADD", "text": USELESS}]})
        return "Count them.\nAnswer: 3"

    result = distill(
        RuleChatModel(rule=student_rule, calls=[]), RuleChatModel(rule=teacher, calls=[]),
        problems(), epochs=1, n=1, batch_size=2, progress=False, verify=True,
    )  # fmt: skip
    assert len(result.library) == 0
    assert sum(h["unverified"] for h in result.history) >= 1
    assert "refused by verification" in result.summary()
