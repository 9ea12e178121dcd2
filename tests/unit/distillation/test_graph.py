import pytest

from ted_graph.config import DistillConfig
from ted_graph.distillation.graph import create_distillation_graph, total_steps


def student_rule(prompt):
    # right on the 1-fish problem, wrong elsewhere
    return "Answer: 3" if "and 1 fish" in prompt else "Answer: 99"


def test_graph_shape_and_uncompiled(make_model, teacher, library):
    graph = create_distillation_graph(make_model(student_rule), teacher, library)
    assert not hasattr(graph, "invoke")  # a StateGraph, compiled by the caller
    nodes = set(graph.compile().get_graph().nodes)
    assert {"next_batch", "solve_problem", "write_experiences", "compress", "finish_step"} <= nodes


def test_full_run_writes_experiences_and_history(make_model, teacher, library, problems):
    student = make_model(student_rule)
    cfg = DistillConfig(epochs=2, batch_size=3, n=2, compress_every=0, verify=False)
    graph = create_distillation_graph(student, teacher, library, config=cfg).compile()
    events = []
    final = None
    for mode, chunk in graph.stream({"trainset": problems}, stream_mode=["custom", "values"]):
        if mode == "custom":
            events.append(chunk)
        else:
            final = chunk
    assert total_steps(len(problems), cfg) == 4
    assert [h["step"] for h in final["history"]] == [0, 1, 2, 3]
    assert [h["epoch"] for h in final["history"]] == [0, 0, 1, 1]
    assert sum(h["problems"] for h in final["history"]) == 2 * len(problems)
    assert [e["step"] for e in events if e["type"] == "step"] == [0, 1, 2, 3]
    # the fake teacher always adds the same lesson: idempotent ids keep one copy
    assert len(library) == 1
    exp = library.all()[0]
    assert set(exp.source_ids) <= {p["id"] for p in problems}
    # teacher solutions are cached: solved once per unsolved problem across both epochs
    solves = [c for c in teacher.calls if "Solve this problem." in c]
    assert len(solves) == 3 and len(final["teacher_solutions"]) == 3


def test_usage_statistics_follow_rollouts(make_model, teacher, library, problems):
    exp = library.add("When counting animals, count each named animal once.")
    student = make_model(student_rule)
    cfg = DistillConfig(epochs=1, batch_size=4, n=2, min_similarity=0.0, k=1, compress_every=0)
    create_distillation_graph(student, teacher, library, config=cfg).compile().invoke(
        {"trainset": problems}
    )
    got = library.get(exp.id)
    assert got.retrieved == 8  # 4 problems x 2 rollouts
    assert got.helpful == 2  # the 1-fish problem's two right rollouts
    assert got.harmful == 6  # the fake critique blames E1 on the three wrong problems
    assert got.last_used_step == 0


def test_context_overrides_defaults(make_model, teacher, library, problems):
    student = make_model(student_rule)
    graph = create_distillation_graph(
        student, teacher, library, config=DistillConfig(epochs=3, n=3)
    ).compile()
    final = graph.invoke({"trainset": problems[:1]}, context=DistillConfig(epochs=1, n=1))
    assert len(final["history"]) == 1 and len(student.calls) == 1


def test_empty_trainset_is_an_error(make_model, teacher, library):
    graph = create_distillation_graph(make_model(student_rule), teacher, library).compile()
    with pytest.raises(ValueError, match="non-empty 'trainset'"):
        graph.invoke({"trainset": []})


def test_compression_runs_on_schedule(make_model, teacher, library, problems):
    cfg = DistillConfig(epochs=1, batch_size=1, n=1, compress_every=2)
    final = (
        create_distillation_graph(make_model(student_rule), teacher, library, config=cfg)
        .compile()
        .invoke({"trainset": problems})
    )
    assert [h["compressed"] for h in final["history"]] == [False, True, False, True]


def test_writing_and_verification_report_progress(make_model, teacher, library, problems):
    student = make_model(student_rule)
    cfg = DistillConfig(epochs=1, batch_size=4, n=2, compress_every=0, verify=True)
    graph = create_distillation_graph(student, teacher, library, config=cfg).compile()
    events = [
        chunk
        for mode, chunk in graph.stream({"trainset": problems}, stream_mode=["custom", "values"])
        if mode == "custom" and chunk["type"] == "progress"
    ]
    phases = {e["phase"] for e in events}
    assert {"group comparison", "writing and verifying"} <= phases
    assert all(0 < e["done"] <= e["total"] for e in events)
