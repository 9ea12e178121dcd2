"""The step's group comparison: several wrong problems side by side, one teacher request,
rules taken as written and verified together outside the group."""

import json
import re

from ted_graph.config import DistillConfig
from ted_graph.distillation.graph import create_distillation_graph
from ted_graph.distillation.induction import GroupRules, group_critique, parse_rules, write_rules
from ted_graph.distillation.verification import Verifier

GROUP = "A student got these problems of one kind wrong"
RULE = "When a list names several animals, count every one of them."


def result(pid, answers, right="3"):
    return {
        "problem_id": pid,
        "rollouts": [{"text": "", "answer": a, "correct": a == right} for a in answers],
    }


def problem(pid, **extra):
    return {"id": pid, "question": f"How many sides has shape {pid}?", "answer": "3", **extra}


class Asker:
    def __init__(self, reply="When a path closes on its start, it is a polygon, not a line."):
        self.reply, self.prompts = reply, []

    def __call__(self, requests):
        self.prompts += [r[0].content for r in requests]
        return [self.reply for _ in requests]


def test_the_group_shows_each_answer_and_the_students_and_its_rules_are_kept_as_written():
    problems = {p: problem(p) for p in ("a", "b", "c")}
    results = [result("a", ["7", "7", "3"]), result("b", ["3", "3"]), result("c", [None, "9"])]
    ask = Asker()
    group = group_critique(results, problems, ask, DistillConfig())
    assert group.critiques == [ask.reply] * 3 and group.proposals == [[ask.reply]] * 3
    assert group.candidates == [[ask.reply]]  # the same proposal thrice: tried once
    assert [p["id"] for p in group.problems] == ["a", "c"]
    assert len(ask.prompts) == 3  # group_proposals orderings, in one request
    prompt = ask.prompts[0]
    assert prompt.startswith(GROUP)
    assert "shape a?" in prompt and "The student answered: 7." in prompt
    assert "shape c?" in prompt and "The student answered: 9." in prompt
    assert "shape b?" not in prompt  # every rollout right: nothing to compare
    assert "Then write 3 rules" in prompt  # max_operations rules
    assert "for each correct answer above, write one short note" in prompt  # notes first


def test_with_two_right_solutions_the_teacher_states_the_method_they_share():
    problems = {p: problem(p) for p in "abc"}
    results = [
        {**result("a", ["7"]), "teacher_solution": "Count the corners.\nAnswer: 3"},
        {**result("b", ["7"]), "teacher_solution": "It looks like a square.\nAnswer: 4"},
        {**result("c", ["9"]), "teacher_solution": "Three straight sides.\nAnswer: 3"},
    ]
    ask = Asker()
    group = group_critique(results, problems, ask, DistillConfig())
    assert [p["id"] for p in group.problems] == ["a", "c"]  # b's solution misses the answer
    prompt = ask.prompts[0]
    assert "Worked solution:\nCount the corners." in prompt and "Three straight sides." in prompt
    assert "square" not in prompt and "shape b?" not in prompt
    assert "Write the method these solutions share as 3 rules" in prompt
    # with one right solution the group is compared on its answers, as before
    results[2]["teacher_solution"] = None
    ask = Asker()
    group_critique(results, problems, ask, DistillConfig())
    assert ask.prompts[0].startswith(GROUP) and "Worked solution" not in ask.prompts[0]
    assert "shape b?" in ask.prompts[0]


def test_nothing_is_asked_with_fewer_than_two_wrong_text_problems_or_when_switched_off():
    problems = {"a": problem("a"), "b": problem("b", images=["x.png"]), "c": problem("c")}
    results = [result("a", ["7"]), result("b", ["7"]), result("c", ["3"])]
    ask = Asker()
    assert group_critique(results, problems, ask, DistillConfig()) is None  # b has an image
    both = [result("a", ["7"]), result("c", ["8"])]
    assert group_critique(both, problems, ask, DistillConfig(group_critique=0)) is None
    assert group_critique(both, problems, ask, DistillConfig(group_critique=1)) is None
    assert ask.prompts == []
    assert group_critique(both, problems, Asker(reply="  "), DistillConfig()).candidates == []


def test_the_group_holds_at_most_group_critique_problems():
    problems = {p: problem(p) for p in "abcde"}
    results = [result(p, ["7"]) for p in "abcde"]
    ask = Asker()
    group_critique(results, problems, ask, DistillConfig(group_critique=3))
    assert [f"shape {p}?" in ask.prompts[0] for p in "abcde"] == [True] * 3 + [False] * 2


def test_each_proposal_sees_the_same_group_in_another_order():
    problems = {p: problem(p) for p in "abcdef"}
    results = [result(p, ["7"]) for p in "abcdef"]
    ask = Asker()
    group_critique(results, problems, ask, DistillConfig(group_proposals=3))

    def order(prompt):
        return re.findall(r"shape (\w)\?", prompt)

    orders = [order(prompt) for prompt in ask.prompts]
    assert orders[0] == list("abcdef")
    assert all(sorted(o) == list("abcdef") for o in orders)
    assert len({tuple(o) for o in orders}) == 3


def test_rules_are_read_from_lists_and_sentences_and_checked_against_every_problem():
    reply = (
        "Here are the rules:\n"
        "1. **When a path returns to its first point, the shape is closed.**\n"
        "- When a path has an A command, it draws a curve. When a path is closed with four "
        "points, it is a kite.\n"
        "2. When the shape has 7 sides, it is a heptagon.\n"  # 7: a number of problem b
        "Rule 3: If the answer is a triangle, say triangle always.\n"  # b's answer
        "When a path returns to its first point, the shape is closed.\n"  # a duplicate
        "When long, reread."  # too short a lesson
    )
    group = [problem("a"), {"id": "b", "question": "A path of 7 points?", "answer": "triangle"}]
    rules, refused = parse_rules(reply, group, DistillConfig(max_operations=5))
    assert rules == [
        "When a path returns to its first point, the shape is closed.",
        "When a path has an A command, it draws a curve.",
        "When a path is closed with four points, it is a kite.",
    ]
    assert [why for _, why in refused] == [
        "names this problem's numbers (7)",
        "states this problem's answer",
        "a placeholder or fragment",
    ]
    assert len(parse_rules(reply, group, DistillConfig(max_operations=2))[0]) == 2


def test_nested_markers_are_dropped():
    # an answer of the notes-first prompt in the geometric_shapes run: a rule under a label
    reply = (
        "### Problem 1\n- **Feature:** a straight line.\n"
        "- **Rule:** When a path closes, it is a polygon."
    )
    assert parse_rules(reply, [problem("a")], DistillConfig())[0] == [
        "When a path closes, it is a polygon."
    ]


def test_a_rule_may_name_an_answer_that_is_a_listed_choice():
    rule = "When a path returns to its first point, the shape is never a line."
    listed = {"id": "c", "question": "What shape?", "answer": "line", "choices": ["line", "kite"]}
    free = {"id": "d", "question": "What shape?", "answer": "line"}
    assert parse_rules(rule, [problem("a"), listed], DistillConfig())[0] == [rule]
    assert parse_rules(rule, [listed, free], DistillConfig())[1] == [
        (rule, "states this problem's answer")
    ]


def fish(i):
    return {"id": f"p{i}", "question": f"I have a cat, a dog and {i} fish. How many animals?",
            "answer": str(2 + i)}  # fmt: skip


def student_rule(prompt):
    """Right when RULE is in its prompt, wrong otherwise."""
    n = int(re.search(r"and (\d+) fish", prompt).group(1))
    return f"Answer: {2 + n}" if RULE in prompt else "Answer: 99"


USELESS = "When a question is long, read it slowly and twice."


def test_rules_enter_only_if_together_they_raise_the_student_outside_the_group(make_model, library):
    train = [fish(i) for i in range(1, 7)]
    cfg = DistillConfig(verify_set=3, min_similarity=0.0)
    group = GroupRules(["..."], [[RULE, USELESS]], train[:2])
    student = make_model(student_rule)
    verifier = Verifier(student, library, train, cfg)
    sample = verifier.near(train[:2], 3)
    assert len(sample) == 3 and not {"p1", "p2"} & {p["id"] for p in sample}
    report = write_rules(library, group, step=0, cfg=cfg, verifier=verifier)
    assert (report.added, report.unverified) == (2, 0)
    assert len(student.calls) == 6  # 3 problems, without and with the set, one batch
    assert sum(RULE in c for c in student.calls) == 3  # the set in half the prompts
    records = library.all()
    assert {r.lift for r in records} == {1.0} and {r.verified for r in records} == {3}
    assert records[0].source_ids == ["p1", "p2"]

    ignoring = make_model(lambda p: "Answer: 99")
    other = type(library).in_memory()
    verifier = Verifier(ignoring, other, train, cfg)
    report = write_rules(other, group, step=0, cfg=cfg, verifier=verifier)
    assert (report.added, report.unverified, len(other)) == (0, 2, 0)
    # nothing outside the group to try them on: not verified
    alone = Verifier(student, other, train[:2], cfg)
    assert write_rules(other, group, step=0, cfg=cfg, verifier=alone).unverified == 2


def test_the_proposal_that_raises_the_student_most_is_the_one_added(make_model, library):
    train = [fish(i) for i in range(1, 7)]
    cfg = DistillConfig(verify_set=3, min_similarity=0.0)
    group = GroupRules(["x", "y", "z"], [[USELESS], [RULE], [USELESS]], train[:2])
    assert group.candidates == [[USELESS], [RULE]]
    student = make_model(student_rule)
    report = write_rules(
        library, group, step=0, cfg=cfg, verifier=Verifier(student, library, train, cfg)
    )
    assert (report.added, report.unverified) == (1, 1)
    assert [e.text for e in library.all()] == [RULE]
    assert len(student.calls) == 9  # 3 problems: one baseline shared, two sets


def test_a_distillation_step_writes_the_groups_rule_as_written(make_model, library, problems):
    def teacher_rule(prompt):
        if prompt.startswith(GROUP):
            return f"Rules:\n1. {RULE}"
        if "reviewing a student's attempts" in prompt:
            return "The student guessed.\nHelpful advice: none"
        if "lessons that would help on OTHER problems" in prompt:
            assert RULE not in prompt  # the writer does not rewrite the group's rules
            return json.dumps({"operations": []})
        return "Count them.\nAnswer: 3"

    teacher = make_model(teacher_rule)
    cfg = DistillConfig(epochs=1, batch_size=4, n=2, compress_every=0, verify=False)
    graph = create_distillation_graph(
        make_model(lambda p: "Answer: 99"), teacher, library, config=cfg
    )
    graph.compile().invoke({"trainset": problems})
    assert sum(c.startswith(GROUP) for c in teacher.calls) == 3  # group_proposals, one step
    assert [e.text for e in library.all()] == [RULE]
    assert sorted(library.all()[0].source_ids) == sorted(p["id"] for p in problems)


def test_a_rule_header_takes_its_steps_and_rules_about_the_prompt_are_refused():
    text = (
        "When a problem is presented with a worked solution, follow these rules:\n"
        "1. Read it.\n"
        "When a letter is to be counted in a text, do this:\n"
        "1. Spell the text letter by letter.\n"
        "2. Mark each letter that matches, in upper or lower case.\n"
        "3. Count the marks.\n"
        "When the student's most frequent answer is given, ignore it."
    )
    rules, refused = parse_rules(text, [problem("a")], DistillConfig())
    assert rules == [
        "When a letter is to be counted in a text, do this: Spell the text letter by letter; "
        "Mark each letter that matches, in upper or lower case; Count the marks"
    ]
    assert [why for _, why in refused] == ["it is about the prompt, not a problem"] * 2
