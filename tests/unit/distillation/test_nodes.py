from ted_graph.config import DistillConfig
from ted_graph.distillation.nodes import (
    build_problem_graph,
    parse_critique,
    representative_rollouts,
)

PROBLEM = {
    "id": "p1",
    "question": "I have a cat, a dog and 1 fish. How many animals?",
    "answer": "3",
}


def run(student, teacher, library, state, **cfg):
    graph = build_problem_graph(student, teacher, library, DistillConfig(**cfg)).compile()
    return graph.invoke(state)


def test_wrong_rollouts_go_through_teacher_and_compare(make_model, teacher, library):
    student = make_model(lambda p: "Answer: 5")
    out = run(student, teacher, library, {"problem": PROBLEM, "step": 0}, n=3)
    (result,) = out["results"]
    assert result["accuracy"] == 0 and len(result["rollouts"]) == 3
    assert all(r["answer"] == "5" and not r["correct"] for r in result["rollouts"])
    assert result["teacher_solution"].endswith("Answer: 3")
    assert result["critique"].startswith("The student lost track")
    assert out["teacher_solutions"] == {"p1": result["teacher_solution"]}
    assert len(student.calls) == 3  # a chat model without native n: n calls
    assert len(teacher.calls) == 2  # solve + compare


def test_solved_problem_skips_the_teacher(make_model, teacher, library):
    student = make_model(lambda p: "Answer: 3")
    out = run(student, teacher, library, {"problem": PROBLEM, "step": 0}, n=2)
    assert out["results"][0]["accuracy"] == 1.0 and out["results"][0]["critique"] is None
    assert teacher.calls == []


def test_cached_teacher_solution_is_reused(make_model, teacher, library):
    student = make_model(lambda p: "Answer: 9")
    state = {"problem": PROBLEM, "step": 4, "teacher_solution": "cached. Answer: 3"}
    out = run(student, teacher, library, state, n=1)
    assert len(teacher.calls) == 1 and "cached. Answer: 3" in teacher.calls[0]
    assert out["results"][0]["teacher_solution"] == "cached. Answer: 3"


def test_retrieved_experiences_reach_student_and_critique(make_model, teacher, library):
    exp = library.add("When counting animals, count each named animal once.")
    student = make_model(lambda p: "Answer: 2")
    out = run(student, teacher, library, {"problem": PROBLEM, "step": 0}, n=1, min_similarity=0.0)
    result = out["results"][0]
    assert result["experience_ids"] == [exp.id]
    assert "count each named animal once" in student.calls[0]
    assert result["misleading_ids"] == [exp.id]  # the fake critique blames E1


def test_parse_critique_maps_labels_to_ids():
    exps = [{"id": "a", "text": "x", "score": 1.0}, {"id": "b", "text": "y", "score": 1.0}]
    prose, helpful, misleading = parse_critique(
        "Went wrong at step 2.\n**Helpful advice:** E2, E9\nMisleading advice: none", exps
    )
    assert prose == "Went wrong at step 2." and helpful == ["b"] and misleading == []
    _, helpful, misleading = parse_critique("x\nHelpful advice: E1\nMisleading advice: E1", exps)
    assert helpful == [] and misleading == ["a"]


def _rollouts(answers, right="3"):
    return [{"text": f"I think {a}.", "answer": a, "correct": a == right} for a in answers]


def test_representative_rollouts_contrast_a_right_one_with_a_wrong_one():
    shown = representative_rollouts(_rollouts(["5", "3", "5", "3"]), 2)
    assert [(r["number"], r["answer"]) for r in shown] == [(1, "5"), (2, "3")]


def test_representative_rollouts_prefer_different_mistakes():
    shown = representative_rollouts(_rollouts(["5", "5", None, "7"]), 3)
    assert [(r["number"], r["answer"]) for r in shown] == [(1, "5"), (3, None), (4, "7")]
    assert not any(r["correct"] for r in shown)


def test_representative_rollouts_zero_or_enough_limit_keeps_all():
    rollouts = _rollouts(["5", "6"])
    assert [r["number"] for r in representative_rollouts(rollouts, 0)] == [1, 2]
    assert [r["number"] for r in representative_rollouts(rollouts, 2)] == [1, 2]


def test_compare_prompt_shows_only_the_chosen_rollouts(make_model, teacher, library):
    answers = iter(["Answer: 5", "Answer: 3", "Answer: 5", "Answer: 7"])
    student = make_model(lambda p: next(answers))
    run(student, teacher, library, {"problem": PROBLEM, "step": 0}, n=4, compare_rollouts=2)
    compare_prompt = teacher.calls[1]
    assert "(2 of 4 shown)" in compare_prompt
    assert compare_prompt.count("## Attempt") == 2
    assert "correct, answered: 3" in compare_prompt and "wrong, answered: 5" in compare_prompt
