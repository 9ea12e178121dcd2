"""The step's group comparison: several wrong problems side by side, one teacher request."""

import json

from ted_graph.config import DistillConfig
from ted_graph.graph import create_distillation_graph
from ted_graph.induction import group_critique

GROUP = "A student got these problems of one kind wrong"


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


def test_the_group_shows_each_answer_and_the_students_and_is_tried_on_its_first_problem():
    problems = {p: problem(p) for p in ("a", "b", "c")}
    results = [result("a", ["7", "7", "3"]), result("b", ["3", "3"]), result("c", [None, "9"])]
    ask = Asker()
    critique, anchor = group_critique(results, problems, ask, DistillConfig())
    assert critique == ask.reply and anchor["id"] == "a"
    (prompt,) = ask.prompts
    assert prompt.startswith(GROUP)
    assert "shape a?" in prompt and "The student answered: 7." in prompt
    assert "shape c?" in prompt and "The student answered: 9." in prompt
    assert "shape b?" not in prompt  # every rollout right: nothing to compare
    assert "Write 3 general rules" in prompt  # max_operations rules


def test_nothing_is_asked_with_fewer_than_two_wrong_text_problems_or_when_switched_off():
    problems = {"a": problem("a"), "b": problem("b", images=["x.png"]), "c": problem("c")}
    results = [result("a", ["7"]), result("b", ["7"]), result("c", ["3"])]
    ask = Asker()
    assert group_critique(results, problems, ask, DistillConfig()) is None  # b has an image
    both = [result("a", ["7"]), result("c", ["8"])]
    assert group_critique(both, problems, ask, DistillConfig(group_critique=0)) is None
    assert group_critique(both, problems, ask, DistillConfig(group_critique=1)) is None
    assert ask.prompts == []
    assert group_critique(both, problems, Asker(reply="  "), DistillConfig()) is None


def test_the_group_holds_at_most_group_critique_problems():
    problems = {p: problem(p) for p in "abcde"}
    results = [result(p, ["7"]) for p in "abcde"]
    ask = Asker()
    group_critique(results, problems, ask, DistillConfig(group_critique=3))
    assert [f"shape {p}?" in ask.prompts[0] for p in "abcde"] == [True] * 3 + [False] * 2


def test_a_distillation_step_writes_the_groups_rule(make_model, library, problems):
    rule = "When a list names several animals, count every one of them."

    def teacher_rule(prompt):
        if prompt.startswith(GROUP):
            return "Rule: count every animal named, fish included."
        if "reviewing a student's attempts" in prompt:
            return "The student guessed.\nHelpful advice: none"
        if "lessons that would help on OTHER problems" in prompt:
            if "fish included" in prompt:
                return json.dumps({"operations": [{"op": "ADD", "text": rule}]})
            return json.dumps({"operations": []})
        return "Count them.\nAnswer: 3"

    teacher = make_model(teacher_rule)
    cfg = DistillConfig(epochs=1, batch_size=4, n=2, compress_every=0, verify=False)
    graph = create_distillation_graph(
        make_model(lambda p: "Answer: 99"), teacher, library, config=cfg
    )
    graph.compile().invoke({"trainset": problems})
    assert sum(c.startswith(GROUP) for c in teacher.calls) == 1  # one group per step
    assert [e.text for e in library.all()] == [rule]
    assert library.all()[0].source_ids == [problems[0]["id"]]
