"""Verified writing: a lesson enters only if the student does better with it."""

import json
import re

from fakes import RuleChatModel

from ted_graph.config import DistillConfig
from ted_graph.distillation.curation import write_from_critiques
from ted_graph.distillation.run import distill
from ted_graph.distillation.verification import Candidate, Verifier

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
    verify=True, verify_problems=2, verify_confirm=0, verify_temperature=0.7, verify_rollouts=2,
    min_similarity=0.0,
)  # fmt: skip


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
    cfg = DistillConfig(verify=True, verify_problems=2, verify_confirm=0, min_similarity=0.0)
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


LUCKY = "When you count, say each total out loud before you answer."


def lucky_rule(prompt: str) -> str:
    """The good lesson helps everywhere; the lucky one only on p1, its source problem."""
    if GOOD in prompt or (LUCKY in prompt and "and 1 fish" in prompt):
        return student_rule(prompt.replace(LUCKY, GOOD))
    return "Answer: 99"


def test_a_lesson_that_wins_only_where_it_was_written_is_refused_by_confirmation(library):
    student = RuleChatModel(rule=lucky_rule, calls=[])
    cfg = DistillConfig(verify=True, verify_problems=2, verify_confirm=3, min_similarity=0.0)
    train = problems(8)
    verifier = Verifier(student, library, train, cfg)
    good, lucky, useless = verifier.verdicts(
        [Candidate(GOOD, train[0]), Candidate(LUCKY, train[0]), Candidate(USELESS, train[0])]
    )
    assert (good.without, good.with_, good.rollouts, good.confirmed) == (0.0, 1.0, 6, True)
    assert good.passes(cfg.verify_margin)
    # one flip of three passes the first round; no win on three more problems refuses it
    assert lucky.confirmed is False and not lucky.passes(cfg.verify_margin)
    assert (lucky.with_, lucky.rollouts) == (1 / 6, 6)  # pooled over both rounds
    assert useless.confirmed is None and useless.rollouts == 3  # no second round for it
    # first round: 3 baselines + 3 x 3 with; second: 3 baselines + 2 x 3 with (not useless)
    assert len(student.calls) == (3 + 9) + (3 + 6)
    # the confirmation problems are the next nearest, never the first round's
    first = {p["id"] for p in verifier.neighbours(train[0], 2)}
    second = {p["id"] for p in verifier.neighbours(train[0], 5)} - first
    assert len(second) == 3 and train[0]["id"] not in first | second


def test_with_no_problem_left_to_confirm_on_the_first_round_stands(library):
    cfg = DistillConfig(verify=True, verify_problems=2, verify_confirm=4, min_similarity=0.0)
    student = RuleChatModel(rule=student_rule, calls=[])
    (good,) = Verifier(student, library, problems(3), cfg).verdicts(
        [Candidate(GOOD, problems(3)[0])]
    )
    assert (good.rollouts, good.confirmed) == (3, None) and good.passes(cfg.verify_margin)
    assert len(student.calls) == 6


def test_writing_logs_a_lesson_refused_by_confirmation(library, caplog):
    cfg = DistillConfig(verify=True, verify_problems=2, verify_confirm=3, min_similarity=0.0)
    ops = {"operations": [{"op": "ADD", "text": LUCKY}]}
    with caplog.at_level("INFO", logger="ted_graph.distillation.curation"):
        report = write_from_critiques(
            library, lambda batch: [json.dumps(ops)] * len(batch),
            [("The student lost count.", problems(8)[0])], step=0, cfg=cfg,
            verifier=Verifier(RuleChatModel(rule=lucky_rule, calls=[]), library, problems(8), cfg),
        )  # fmt: skip
    assert (report.added, report.unverified) == (0, 1) and len(library) == 0
    assert "no gain on the confirmation problems" in caplog.text


def test_a_lesson_retrieval_would_not_show_is_not_tried(library, caplog):
    student = RuleChatModel(rule=student_rule, calls=[])
    cfg = DistillConfig(verify=True, verify_problems=2, verify_confirm=0, min_similarity=0.99)
    (good,) = Verifier(student, library, problems(), cfg).verdicts([Candidate(GOOD, problems()[0])])
    assert (good.without, good.with_, good.rollouts, good.shown) == (0.0, 0.0, 3, 0)
    assert len(student.calls) == 3  # both prompts are the same: one answer per problem
    ops = {"operations": [{"op": "ADD", "text": GOOD}]}
    with caplog.at_level("INFO", logger="ted_graph.distillation.curation"):
        report = write_from_critiques(
            library, lambda batch: [json.dumps(ops)] * len(batch),
            [("The student forgot the fish.", problems()[0])], step=0, cfg=cfg,
            verifier=Verifier(RuleChatModel(rule=student_rule, calls=[]), library, problems(), cfg),
        )  # fmt: skip
    assert (report.added, report.unverified) == (0, 1)
    assert "retrieval would not show it" in caplog.text


FAR = "When a date is written with slashes, read the month before the day."


def test_the_candidate_takes_its_place_among_what_retrieval_shows(library):
    library.add(USELESS)
    seen: list[str] = []

    def rule(prompt):
        seen.append(prompt)
        return student_rule(prompt)

    cfg = DistillConfig(verify=True, verify_problems=0, verify_confirm=0, min_similarity=0.0, k=1)
    verifier = Verifier(RuleChatModel(rule=rule, calls=[]), library, problems(1), cfg)
    # closer to the question than the record shown now: it takes the one place
    (good,) = verifier.verdicts([Candidate(GOOD, problems(1)[0])])
    assert (good.lift, good.shown) == (1.0, 1)
    assert [USELESS in p for p in seen] == [True, False] and GOOD in seen[1]
    # farther than the record shown now: with k=1 retrieval would never show it
    seen.clear()
    (far,) = verifier.verdicts([Candidate(FAR, problems(1)[0])])
    assert (far.lift, far.shown, len(seen)) == (0.0, 0, 1)
