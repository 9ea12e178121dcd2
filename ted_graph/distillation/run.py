"""One-call distillation in the DSPy spirit: ``distill(...) -> DistillResult``."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from tqdm.auto import tqdm

from ted_graph.config import DistillConfig
from ted_graph.data.loading import validate_problem
from ted_graph.distillation.graph import create_distillation_graph, total_steps
from ted_graph.distillation.result import DistillResult
from ted_graph.distillation.selection import BestVersion
from ted_graph.library.library import ExperienceLibrary
from ted_graph.models import load_chat_model, track_usage
from ted_graph.models.generation import generation_progress
from ted_graph.types import Problem, StepRecord

__all__ = ["distill", "DistillResult", "CheckpointMismatch"]


class CheckpointMismatch(ValueError):
    """A checkpoint thread holds a run over a different trainset."""


def distill(
    student: BaseChatModel | str,
    teacher: BaseChatModel | str,
    trainset: Sequence[Problem],
    *,
    library: ExperienceLibrary | str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    n: int | None = None,
    k: int | None = None,
    batch_size: int | None = None,
    config: DistillConfig | None = None,
    progress: bool = True,
    on_step: Callable[[StepRecord, ExperienceLibrary], None] | None = None,
    checkpointer: BaseCheckpointSaver | str | os.PathLike[str] | None = None,
    thread_id: str = "distill",
    valset: Sequence[Problem] | None = None,
    **settings: Any,
) -> DistillResult:
    """Distil the teacher's experience into a library the student reads at inference time.

    Args:
        student: a LangChain chat model or a model spec (see ``load_chat_model``).
        teacher: likewise.
        trainset: the training problems.
        library: an :class:`ExperienceLibrary`, a directory for a persistent one, or
            ``None`` for a new in-memory library.
        epochs, n, k, batch_size: the most used settings; the rest go through ``config``
            or as keyword arguments named after :class:`DistillConfig` fields.
        config: base settings.
        progress: show a progress bar.
        on_step: called after every step with its record and the library, before the
            next step starts (to export snapshots or evaluate along the way).
        checkpointer: make the run durable: a LangGraph checkpointer, or the path of a
            SQLite file. A run killed part-way resumes from its last finished node when
            called again with the same ``thread_id``, trainset and library; writes a
            killed attempt left half-done are undone first (see ``docs/serving.md``).
            Calling again after the run finished returns its result without new work.
        thread_id: the run's name inside the checkpointer.
        valset: problems to keep the library's best version on (DSPy's ``valset``), kept
            apart from the trainset; ``None``: ``validation`` training problems are held
            out instead (none by default).

    With a ``valset``, or ``validation=m`` (a :class:`DistillConfig` field: ``m`` training
    problems held out), the student is scored on those problems alone, with the library
    before the run and after every step, and the library ends as its best-scoring version
    (:mod:`ted_graph.distillation.selection`; ``DistillResult.validation`` has the scores). A run
    checkpointed to a file keeps them beside it (``<file>.<thread_id>.validation.json``),
    so a resumed run still compares against the library it started from; with a
    checkpointer object, a resumed run compares only the versions it saw itself.

    Returns:
        A :class:`DistillResult`.

    Raises:
        DatasetError: a training problem is malformed (nothing is written then).
        CheckpointMismatch: ``thread_id`` holds a run over a different trainset.
    """
    problems = [validate_problem(p, f"trainset[{i}]") for i, p in enumerate(trainset)]
    if not problems:
        raise ValueError("distill() needs at least one training problem")
    cfg = (config or DistillConfig()).updated(
        epochs=epochs, n=n, k=k, batch_size=batch_size, **settings
    )
    if valset is None:
        problems, valset = _hold_out(problems, cfg)
    else:
        valset = _separate_valset(valset, problems, cfg)
    if not isinstance(library, ExperienceLibrary):
        library = ExperienceLibrary.in_memory() if library is None else ExperienceLibrary(library)
    student_model = load_chat_model(student)
    teacher_model = load_chat_model(teacher)
    saver = _checkpointer(checkpointer)
    graph = create_distillation_graph(student_model, teacher_model, library, config=cfg).compile(
        checkpointer=saver
    )
    # every problem of a step in flight at once, so their generations batch together
    run_config: dict[str, Any] = {"max_concurrency": max(cfg.batch_size, 4)}
    graph_input: dict[str, Any] | None = {"trainset": problems}
    done_steps = 0
    resuming = False
    finished: list[StepRecord] = []  # the steps a resumed run finished before
    if saver is not None:
        run_config["configurable"] = {"thread_id": thread_id}
        saved = graph.get_state(run_config)  # type: ignore[arg-type]
        if saved.values:
            _check_same_run(saved.values, problems, thread_id)
            resuming = True
            done_steps = saved.values.get("step", 0)
            finished = list(saved.values.get("history") or [])
            # resume from the last finished node; a step whose tasks all finished before
            # the kill has an empty `next`, but its writes are still to be applied
            if saved.next or saved.tasks:
                graph_input = None

    steps = total_steps(len(problems), cfg)
    bar = tqdm(
        total=cfg.epochs * len(problems),
        initial=min(done_steps * cfg.batch_size, cfg.epochs * len(problems)),
        desc="distilling",
        unit="problem",
        disable=not progress,
    )
    started = time.time()
    final: dict[str, Any] = {}

    def validating() -> Any:  # the validation split's answers, one by one, on the bar
        return generation_progress(
            lambda done, total: bar.set_postfix_str(f"validating {done}/{total}")
        )

    with track_usage() as meter:
        with validating():
            best = _best_version(
                student_model, library, valset, cfg,
                path=_validation_file(checkpointer, thread_id), resume=resuming,
            )  # fmt: skip
            # killed between a step's end and its score (the next step waits for both):
            # the step is scored now and handed to on_step, which comes after the score
            caught_up = best is not None and best.catch_up(done_steps) is not None
        if caught_up and on_step is not None and finished:
            on_step(finished[-1], library)
        try:
            for namespace, mode, chunk in graph.stream(
                graph_input,
                config=run_config,  # type: ignore[arg-type]
                context=cfg,
                stream_mode=["custom", "values"],
                subgraphs=True,
            ):
                if mode == "values" and not namespace:
                    final = chunk
                elif mode == "custom" and chunk.get("type") == "problem":
                    bar.update(1)
                elif mode == "custom" and chunk.get("type") == "progress":
                    bar.set_postfix_str(f"{chunk['phase']} {chunk['done']}/{chunk['total']}")
                elif mode == "custom" and chunk.get("type") == "step":
                    shown = {
                        "step": f"{chunk['step'] + 1}/{steps}",
                        "acc": f"{chunk['rollout_accuracy']:.2f}",
                        "library": chunk["library_size"],
                    }
                    if best is not None:  # the next step waits until this is scored
                        with validating():
                            shown["val"] = f"{best.after_step(chunk['step']):.2f}"
                    bar.set_postfix(**shown)
                    if on_step is not None:
                        record = {
                            k: v for k, v in chunk.items() if k not in ("type", "total_steps")
                        }
                        on_step(record, library)  # type: ignore[arg-type]
        finally:
            bar.close()
        report = best.finish() if best is not None else None
    if saver is not None and isinstance(checkpointer, (str, os.PathLike)):
        saver.conn.close()  # type: ignore[attr-defined]
    return DistillResult(
        library=library,
        config=cfg,
        history=list(final.get("history", [])),
        teacher_solutions=dict(final.get("teacher_solutions", {})),
        seconds=round(time.time() - started, 2),
        usage=meter.to_dict(),
        validation=report,
    )


def _hold_out(problems: list[Problem], cfg: DistillConfig) -> tuple[list[Problem], list[Problem]]:
    """``(training problems, validation problems)``: ``cfg.validation`` of them, chosen by
    a shuffle seeded with ``cfg.seed``, are held out."""
    if not cfg.validation:
        return problems, []
    if cfg.validation >= len(problems):
        raise ValueError(
            f"DistillConfig.validation={cfg.validation} leaves no training problems out of "
            f"{len(problems)}"
        )
    order = list(range(len(problems)))
    random.Random(cfg.seed * 104_729 + 1).shuffle(order)
    held = set(order[: cfg.validation])
    return ([p for i, p in enumerate(problems) if i not in held],
            [p for i, p in enumerate(problems) if i in held])  # fmt: skip


def _separate_valset(
    valset: Sequence[Problem], problems: list[Problem], cfg: DistillConfig
) -> list[Problem]:
    if cfg.validation:
        raise ValueError(f"pass a valset or DistillConfig.validation={cfg.validation}, not both")
    checked = [validate_problem(p, f"valset[{i}]") for i, p in enumerate(valset)]
    if not checked:
        raise ValueError("valset is empty; pass None to score no validation split")
    shared = {p["id"] for p in checked} & {p["id"] for p in problems}
    if shared:
        raise ValueError(
            f"valset shares {len(shared)} problem(s) with the trainset (e.g. "
            f"{sorted(shared)[0]!r}); validation needs problems the run does not train on"
        )
    return checked


def _validation_file(
    checkpointer: BaseCheckpointSaver | str | os.PathLike[str] | None, thread_id: str
) -> Path | None:
    """Where a run checkpointed to a file keeps its validation scores (beside the file)."""
    if checkpointer is None or isinstance(checkpointer, BaseCheckpointSaver):
        return None
    path = Path(checkpointer)
    return path.with_name(f"{path.name}.{thread_id}.validation.json")


def _best_version(
    student: BaseChatModel,
    library: ExperienceLibrary,
    valset: list[Problem],
    cfg: DistillConfig,
    *,
    path: Path | None = None,
    resume: bool = False,
) -> BestVersion | None:
    if not valset:
        return None
    from ted_graph.distillation.evaluation import evaluate

    def score(with_library: ExperienceLibrary | None) -> float:
        result = evaluate(
            student, valset, library=with_library, k=cfg.k, min_similarity=cfg.min_similarity,
            max_experience_tokens=cfg.max_experience_tokens, examples=cfg.examples,
            max_tokens=cfg.student_max_tokens, progress=False,
        )  # fmt: skip
        return result.accuracy

    best = BestVersion(library, score, len(valset), path)
    best.start(resume=resume)
    return best


def _checkpointer(
    checkpointer: BaseCheckpointSaver | str | os.PathLike[str] | None,
) -> BaseCheckpointSaver | None:
    if checkpointer is None or isinstance(checkpointer, BaseCheckpointSaver):
        return checkpointer
    try:
        import sqlite3

        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("durable runs need langgraph-checkpoint-sqlite") from exc
    path = Path(checkpointer)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))


def _check_same_run(values: dict[str, Any], problems: list[Problem], thread_id: str) -> None:
    before = [p["id"] for p in values.get("trainset") or []]
    if before and before != [p["id"] for p in problems]:
        raise CheckpointMismatch(
            f"checkpoint thread {thread_id!r} holds a run over a different trainset "
            f"({len(before)} problems); pass another thread_id or checkpoint file"
        )
