"""The whole TED loop on the real embedded models and a real persistent Chroma."""

import logging

import pytest

from ted_graph import ExperienceLibrary, distill, load_dataset
from ted_graph.config import DistillConfig
from ted_graph.data.loading import split
from ted_graph.distillation.curation import generality_problem
from ted_graph.models.local import local_backend

pytestmark = pytest.mark.integration


def test_one_full_distillation_step(student, real_teacher, tmp_path, caplog):
    train, _ = split(load_dataset("bigbench:logical_deduction"), train=2, test=0, seed=1)
    library = ExperienceLibrary(tmp_path / "lib")
    caplog.set_level(logging.INFO, logger="ted_graph.distillation.induction")
    result = distill(
        student,
        real_teacher,
        train,
        library=library,
        epochs=1,
        n=2,
        batch_size=2,
        student_max_tokens=48,
        teacher_max_tokens=160,
        progress=False,
        verify=True,  # every valid lesson is tried on the real student first
        verify_problems=1,
    )
    (step,) = result.history
    assert step["problems"] == 2 and step["step"] == 0
    assert 0.0 <= step["rollout_accuracy"] <= 1.0
    # every problem with a wrong rollout was critiqued; only right (or rationalized)
    # teacher solutions are kept
    wrong = step["critiqued"] + step["fallback_critiques"]
    assert wrong >= 1, "the 135M student solved both problems: pick others"
    assert len(result.teacher_solutions) <= wrong
    # with both problems wrong, the teacher saw them side by side, once per proposal
    asked = [r.getMessage() for r in caplog.records if "group comparison of 2" in r.getMessage()]
    assert len(asked) in (0, DistillConfig().group_proposals)
    # the teacher's writer answered for every critique, and each answer was accounted for
    keys = ("added", "updated", "deleted", "rejected", "unverified", "unparsed")
    outcomes = sum(step[k] for k in keys)
    assert outcomes >= 1 and step["failed"] == 0
    # what the run wrote is on disk and general
    reopened = ExperienceLibrary(tmp_path / "lib")
    assert [e.to_dict() for e in reopened.all(None)] == [e.to_dict() for e in library.all(None)]
    assert step["library_size"] == len(reopened)
    problems = {p["id"]: p for p in train}
    for exp in reopened.all():
        assert exp.verified > 0 and exp.lift > 0  # what entered was measured to help
        assert exp.source_ids and set(exp.source_ids) <= set(problems)
        for pid in exp.source_ids:
            assert generality_problem(exp.text, problems[pid], 50) is None


def test_transformers_rollouts_of_a_problem_are_one_generate_call(hf_student, monkeypatch):
    from langchain_core.messages import HumanMessage

    from ted_graph.models import generate

    hf_model, _ = local_backend(hf_student)
    calls = []
    original = hf_model.generate

    def counting(*args, **kwargs):
        rows = kwargs["input_ids"].shape[0]
        calls.append(rows * (kwargs.get("num_return_sequences") or 1))
        return original(*args, **kwargs)

    monkeypatch.setattr(hf_model, "generate", counting)
    out = generate(
        hf_student, [[HumanMessage("Name a colour.")]], n=4, temperature=1.0, max_tokens=12, seed=0
    )
    assert calls == [4] and len(out[0]) == 4
    assert len(set(out[0])) > 1  # sampled, not four copies


def test_distilling_a_reasoning_gym_task_grades_with_its_scorer(student, real_teacher, tmp_path):
    """A reasoning-gym task end to end on the real models: rollouts, the teacher's
    solutions and a held-out evaluation are graded by the task's own scorer."""
    pytest.importorskip("reasoning_gym")
    from ted_graph import evaluate
    from ted_graph.answers import extract_answer, grade
    from ted_graph.distillation.evaluation import EvalResult
    from ted_graph.distillation.graph import create_distillation_graph
    from ted_graph.gym import score

    spec = "reasoning-gym:letter_counting?min_words=3&max_words=4"
    train = load_dataset(spec + "&size=2&seed=7")
    test = load_dataset(spec + "&size=4&seed=1001")
    assert not {p["id"] for p in train} & {p["id"] for p in test}
    library = ExperienceLibrary(tmp_path / "lib")
    cfg = DistillConfig(
        epochs=1, n=2, batch_size=2, student_max_tokens=64, teacher_max_tokens=160, verify=False
    )
    graph = create_distillation_graph(student, real_teacher, library, config=cfg).compile()
    final = graph.invoke({"trainset": train}, context=cfg)
    (step,) = final["history"]
    assert step["problems"] == 2
    problems = {p["id"]: p for p in train}
    for r in final["results"]:
        for rollout in r["rollouts"]:  # each rollout's verdict is the task scorer's
            assert rollout["correct"] == (score(rollout["answer"], problems[r["problem_id"]]) == 1)
    for pid, solution in final.get("teacher_solutions", {}).items():  # rationalized or dropped
        assert grade(extract_answer(solution), problems[pid])
    evaluated = evaluate(student, test, library=library, max_tokens=64, progress=False)
    reloaded = EvalResult.load(evaluated.save(tmp_path / "eval.json")).regrade()
    assert [p["correct"] for p in reloaded.predictions] == [
        p["correct"] for p in evaluated.predictions
    ]
