"""Durable distillation: a run that dies part-way resumes to the same library."""

import json
import re

import pytest

from ted_graph.distillation.run import distill
from ted_graph.library.library import ExperienceLibrary

WORDS = {"1": "twice", "2": "aloud", "3": "slowly", "4": "carefully"}


def student_rule(prompt):
    return "Answer: 99"  # always wrong, so every problem is critiqued and written about


def teacher_rule(prompt):
    if "reviewing a student's attempts" in prompt:
        k = re.search(r"and (\d) fish", prompt).group(1)
        return f"The student lost track of items; recount {WORDS[k]}.\nHelpful advice: E1"
    if "lessons that would help on OTHER problems" in prompt:
        word = next(w for w in WORDS.values() if f"recount {w}" in prompt)
        text = f"When counting listed objects, count every named item once and check {word}."
        return json.dumps({"operations": [{"op": "ADD", "text": text}]})
    return "Count them.\nAnswer: 3"


def run(make_model, problems, library, **kwargs):
    return distill(
        make_model(student_rule),
        make_model(teacher_rule),
        problems,
        library=library,
        epochs=1,
        n=2,
        batch_size=2,
        progress=False,
        min_similarity=0.0,
        compress_every=0,
        verify=False,  # the fake student ignores lessons: this tests the writes, not their worth
        group_critique=0,  # one critique per problem, so the writes can be counted
        **kwargs,
    )


def comparable(library):
    return sorted(
        (e["text"], e["status"], e["retrieved"], e["helpful"], e["harmful"], e["source_ids"])
        for e in library.snapshot()
    )


def test_a_run_killed_mid_write_resumes_to_the_same_library(make_model, problems, tmp_path):
    clean = ExperienceLibrary.in_memory()
    run(make_model, problems, clean)

    library = ExperienceLibrary.in_memory()
    real_add, calls = library.add, []

    def dying_add(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:  # the first write of step 2, after its usage counts were stored
            raise KeyboardInterrupt("killed")
        return real_add(*args, **kwargs)

    library.add = dying_add
    checkpoint = tmp_path / "run.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run(make_model, problems, library, checkpointer=checkpoint, thread_id="t")
    assert len(library) == 2  # step 1 wrote two experiences before the crash
    library.add = real_add

    resumed = run(make_model, problems, library, checkpointer=checkpoint, thread_id="t")
    assert len(resumed.history) == 2 and [h["step"] for h in resumed.history] == [0, 1]
    assert comparable(library) == comparable(clean)
    assert len(library) == 4

    # calling again after the end does no new work and keeps the library as it is
    again = run(make_model, problems, library, checkpointer=checkpoint, thread_id="t")
    assert len(again.history) == 2 and comparable(library) == comparable(clean)


def test_a_thread_of_another_trainset_is_refused(make_model, problems, tmp_path):
    checkpoint = tmp_path / "run.sqlite"
    run(make_model, problems[:2], ExperienceLibrary.in_memory(), checkpointer=checkpoint)
    with pytest.raises(ValueError, match="different trainset"):
        run(make_model, problems, ExperienceLibrary.in_memory(), checkpointer=checkpoint)


def test_snapshot_and_restore_undo_every_kind_of_write(library):
    a = library.add("When counting objects, list each item first.")
    b = library.add("When ordering by clues, place items one clue at a time.")
    snap = library.snapshot()
    library.record_usage({a.id: (3, 2, 1)}, step=1)
    library.update(b.id, "When ordering by clues, draw a line and place items on it.")
    library.remove(a.id)
    library.add("If dates are involved, count the days between them carefully.")
    assert library.restore(snap) == 3
    assert library.snapshot() == snap
    assert [e.id for e, _ in library.search("ordering clues", k=1)] == [b.id]
    assert library.restore(snap) == 0


def test_unfinished_writes_are_reported_once(library):
    assert library.begin_writes("write:1") is None
    assert library.begin_writes("write:1") == "write:1"  # the first attempt never ended
    library.end_writes()
    assert library.begin_writes("compress:1") is None


def test_a_resumed_run_keeps_the_validation_scores_of_its_first_part(
    make_model, problems, tmp_path
):
    library = ExperienceLibrary.in_memory()
    real_add, calls = library.add, []

    def dying_add(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:  # in step 1, after step 0 was scored on validation
            raise KeyboardInterrupt("killed")
        return real_add(*args, **kwargs)

    library.add = dying_add
    checkpoint = tmp_path / "run.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run(make_model, problems, library, checkpointer=checkpoint, thread_id="t", validation=1)
    assert (tmp_path / "run.sqlite.t.validation.json").exists()
    library.add = real_add
    resumed = run(
        make_model, problems, library, checkpointer=checkpoint, thread_id="t", validation=1
    )
    steps = [h["step"] for h in resumed.history]
    # the start and step 0 were scored before the kill; the resumed run goes on from them
    assert [s for s, _ in resumed.validation.scores] == [-1, *steps]


def test_a_step_killed_before_its_score_is_scored_on_resume(
    make_model, problems, tmp_path, monkeypatch
):
    from ted_graph.distillation.selection import BestVersion

    models = []

    def recording(rule):
        models.append(make_model(rule))
        return models[-1]

    run(recording, problems, ExperienceLibrary.in_memory(), validation=1)
    uninterrupted = sum(len(m.calls) for m in models)

    models.clear()
    library = ExperienceLibrary.in_memory()
    real_after_step = BestVersion.after_step

    def dying_after_step(self, step):
        raise KeyboardInterrupt("killed")  # step 0 ended and was checkpointed, not scored

    monkeypatch.setattr(BestVersion, "after_step", dying_after_step)
    checkpoint = tmp_path / "run.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run(recording, problems, library, checkpointer=checkpoint, thread_id="t", validation=1)
    monkeypatch.setattr(BestVersion, "after_step", real_after_step)
    handed = []
    resumed = run(
        recording, problems, library, checkpointer=checkpoint, thread_id="t", validation=1,
        on_step=lambda record, lib: handed.append(record["step"]),
    )  # fmt: skip
    steps = [h["step"] for h in resumed.history]
    assert steps == [0, 1]
    assert handed == steps  # on_step comes after the score, so step 0 had not had it
    # step 0 is scored on resume and not run again: the two parts together asked the
    # models exactly what an uninterrupted run asks
    assert [s for s, _ in resumed.validation.scores] == [-1, *steps]
    assert sum(len(m.calls) for m in models) == uninterrupted
