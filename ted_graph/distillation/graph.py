"""The distillation graph: TED's loop as a LangGraph state machine.

::

    START -> next_batch --Send per problem--> solve_problem -> write_experiences
                ^    \\--(all steps done)--> END                       |
                |                                                       v
             finish_step <------------------------------------------ compress

``solve_problem`` is the per-problem subgraph of :mod:`ted_graph.distillation.nodes` (retrieve,
student_sample, teacher_solve, compare). Run settings come from the ``context``
(:class:`~ted_graph.config.DistillConfig`); progress goes to the ``custom`` stream.
"""

from __future__ import annotations

import logging
import math
import operator
import random
import time
from collections.abc import Callable
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from typing_extensions import TypedDict

from ted_graph.config import DistillConfig
from ted_graph.distillation.curation import compress_library, write_from_critiques
from ted_graph.distillation.induction import group_critique, write_rules
from ted_graph.distillation.nodes import build_problem_graph, teacher_asker_many, writer_asker_many
from ted_graph.distillation.verification import Verifier
from ted_graph.library.examples import worked_solution
from ted_graph.library.library import ExperienceLibrary
from ted_graph.models.generation import generation_progress
from ted_graph.types import Problem, ProblemResult, StepRecord

__all__ = ["DistillState", "create_distillation_graph", "total_steps"]

logger = logging.getLogger(__name__)


def _extend_or_reset(
    left: list[ProblemResult] | None, right: list[ProblemResult] | None
) -> list[ProblemResult]:
    """Results of the current step; writing ``None`` starts a new step."""
    if right is None:
        return []
    return [*(left or []), *right]


def _merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    return {**(left or {}), **(right or {})}


class DistillState(TypedDict, total=False):
    """State of a distillation run. Only ``trainset`` is required as input."""

    trainset: list[Problem]
    step: int  # finished steps
    batch: list[Problem]
    results: Annotated[list[ProblemResult], _extend_or_reset]
    teacher_solutions: Annotated[dict[str, str], _merge]  # cache, reused across epochs
    accuracy: Annotated[dict[str, float], _merge]  # last rollout accuracy per problem
    writes: dict[str, int]  # this step's library operations
    compressed: bool
    step_started: float
    history: Annotated[list[StepRecord], operator.add]
    # the library as of the last finished write, so a resumed run can undo a half-done one
    library_snapshot: list[dict[str, Any]]


def total_steps(n_problems: int, cfg: DistillConfig) -> int:
    """Steps a run over ``n_problems`` takes: ``epochs * ceil(n / batch_size)``."""
    return cfg.epochs * math.ceil(n_problems / cfg.batch_size)


def create_distillation_graph(
    student: BaseChatModel,
    teacher: BaseChatModel,
    library: ExperienceLibrary,
    *,
    config: DistillConfig | None = None,
) -> StateGraph:
    """Build TED's distillation loop as an uncompiled ``StateGraph``.

    Args:
        student: the chat model that learns through its prompt.
        teacher: the chat model that solves, critiques and writes experiences.
        library: where experiences are stored and retrieved.
        config: default run settings; a ``context=DistillConfig(...)`` given at invoke
            time takes precedence.

    Returns:
        The graph; compile it with the checkpointer or store you want.

    Example:
        >>> from langchain_core.language_models import GenericFakeChatModel
        >>> fake = GenericFakeChatModel(messages=iter(["Answer: 4"] * 10))
        >>> graph = create_distillation_graph(fake, fake, ExperienceLibrary.in_memory())
        >>> sorted(graph.compile().get_graph().nodes)[:3]
        ['__end__', '__start__', 'compress']
    """
    defaults = config or DistillConfig()
    problem_graph = build_problem_graph(student, teacher, library, defaults).compile()

    def cfg_of(runtime: Runtime[DistillConfig]) -> DistillConfig:
        return runtime.context or defaults

    def next_batch(state: DistillState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        problems = state.get("trainset") or []
        if not problems:
            raise ValueError("distillation needs a non-empty 'trainset'")
        step = state.get("step", 0)
        per_epoch = math.ceil(len(problems) / cfg.batch_size)
        if step >= total_steps(len(problems), cfg):
            return {"batch": []}
        epoch, index = divmod(step, per_epoch)
        order = list(range(len(problems)))
        random.Random(cfg.seed * 7919 + epoch).shuffle(order)
        chosen = order[index * cfg.batch_size : (index + 1) * cfg.batch_size]
        return {
            "batch": [problems[i] for i in chosen],
            "results": None,
            "step": step,
            "step_started": time.time(),
            "library_snapshot": library.snapshot(),
        }

    def fan_out(state: DistillState) -> list[Send] | str:
        if not state.get("batch"):
            return END
        cache = state.get("teacher_solutions") or {}
        accuracy = state.get("accuracy") or {}
        return [
            Send(
                "solve_problem",
                {
                    "problem": p,
                    "step": state.get("step", 0),
                    "teacher_solution": cache.get(p["id"]),
                    "previous_accuracy": accuracy.get(p["id"]),
                },
            )
            for p in state["batch"]
        ]

    def guarded(
        name: str, state: DistillState, write: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run a node's library writes so that a crash half-way is undone on resume.

        The library marks the writes as begun; a mark left by a killed attempt means the
        library holds part of them, so it is first put back to the state's snapshot (taken
        when the last writes finished, and checkpointed with the state).
        """
        recovered = library.recover()  # a batch a killed writer left open, undone
        if recovered:
            logger.warning("%s: undid a half-applied batch (%d records)", name, recovered)
        library.fold_usage()  # the writer folds usage other processes appended
        unfinished = library.begin_writes(f"{name}:{state.get('step', 0)}")
        snapshot = state.get("library_snapshot")
        if unfinished and snapshot is not None:  # an empty library's snapshot is [], not None
            changed = library.restore(snapshot)
            logger.warning("resuming %s: undid %d half-written records", name, changed)
        out = write()
        out["library_snapshot"] = library.snapshot()
        library.end_writes()
        return out

    def phase(runtime: Runtime[DistillConfig], name: str) -> Any:
        """Report each finished generation of the block as ``progress`` on the custom
        stream: the teacher's writing and the student's verification take minutes."""

        def report(done: int, total: int) -> None:
            runtime.stream_writer({"type": "progress", "phase": name, "done": done, "total": total})

        return generation_progress(report)

    def write_experiences(state: DistillState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        return guarded("write_experiences", state, lambda: _write(state, cfg_of(runtime), runtime))

    def _write(
        state: DistillState, cfg: DistillConfig, runtime: Runtime[DistillConfig]
    ) -> dict[str, Any]:
        step = state.get("step", 0)
        results = sorted(state.get("results") or [], key=lambda r: r["problem_id"])
        # usage statistics first, so the writing below sees up-to-date utilities
        usage: dict[str, list[int]] = {}
        for r in results:
            n = len(r["rollouts"])
            right = sum(x["correct"] for x in r["rollouts"])
            fell = r["previous_accuracy"] is not None and r["accuracy"] < r["previous_accuracy"]
            for exp_id in r["experience_ids"]:
                counts = usage.setdefault(exp_id, [0, 0, 0])
                counts[0] += n
                counts[1] += right
                if exp_id in r["misleading_ids"] or fell:
                    counts[2] += n - right
        library.record_usage({k: (v[0], v[1], v[2]) for k, v in usage.items()}, step=step)
        # the teacher's right solutions become worked examples (idempotent: one per problem;
        # none of image problems, whose image an example in a text prompt cannot show)
        problems = {p["id"]: p for p in state.get("batch") or []}
        examples = 0
        for r in results:
            problem = problems[r["problem_id"]]
            solution = (
                r["teacher_solution"]
                and not problem.get("images")
                and worked_solution(r["teacher_solution"], problem)
            )
            if solution:
                library.examples.add(problems[r["problem_id"]], solution, step=step)
                examples += 1
        # then the teacher writes for every critique of the step in one batched request
        critiques = [(r["critique"], problems[r["problem_id"]]) for r in results if r["critique"]]
        # the step's wrong problems side by side: rules, verified together
        # (ted_graph.distillation.induction)
        with phase(runtime, "group comparison"):
            group = group_critique(results, problems, teacher_asker_many(teacher, cfg), cfg)
        verifier = (
            Verifier(student, library, state["trainset"], cfg)
            if cfg.verify and (critiques or (group and group.candidates))
            else None
        )
        with phase(runtime, "writing and verifying"):
            report = write_from_critiques(
                library, writer_asker_many(teacher, cfg), critiques, step=step, cfg=cfg,
                verifier=verifier,
            )  # fmt: skip
        if group is not None:
            with phase(runtime, "verifying group rules"):
                report += write_rules(library, group, step=step, cfg=cfg, verifier=verifier)
        return {
            "writes": {**vars(report), "examples": examples},
            "accuracy": {r["problem_id"]: r["accuracy"] for r in results},
        }

    def compress(state: DistillState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        with phase(runtime, "compressing"):
            return guarded("compress", state, lambda: _compress(state, cfg_of(runtime)))

    def _compress(state: DistillState, cfg: DistillConfig) -> dict[str, Any]:
        step = state.get("step", 0)
        last = step + 1 >= total_steps(len(state["trainset"]), cfg)
        due = cfg.compress_every > 0 and ((step + 1) % cfg.compress_every == 0 or last)
        if not due and len(library) <= cfg.max_size:
            return {"compressed": False}
        report = compress_library(library, teacher_asker_many(teacher, cfg), step=step, cfg=cfg)
        logger.info("step %d compression: %s", step, report)
        return {"compressed": True}

    def finish_step(state: DistillState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        step = state.get("step", 0)
        results = state.get("results") or []
        rollouts = [x for r in results for x in r["rollouts"]]
        writes = state.get("writes") or {}
        per_epoch = math.ceil(len(state["trainset"]) / cfg.batch_size)
        record: StepRecord = {
            "step": step,
            "epoch": step // per_epoch,
            "problems": len(results),
            "rollout_accuracy": sum(x["correct"] for x in rollouts) / max(1, len(rollouts)),
            "critiqued": sum(
                1 for r in results if r["critique"] and not r.get("critique_fallback")
            ),
            "fallback_critiques": sum(1 for r in results if r.get("critique_fallback")),
            "added": writes.get("added", 0),
            "updated": writes.get("updated", 0),
            "deleted": writes.get("deleted", 0),
            "rejected": writes.get("rejected", 0),
            "unverified": writes.get("unverified", 0),
            "unparsed": writes.get("unparsed", 0),
            "failed": writes.get("failed", 0),
            "examples": writes.get("examples", 0),
            "compressed": bool(state.get("compressed")),
            "library_size": len(library),
            "seconds": round(time.time() - state.get("step_started", time.time()), 2),
        }
        runtime.stream_writer(
            {"type": "step", "total_steps": total_steps(len(state["trainset"]), cfg), **record}
        )
        return {"step": step + 1, "history": [record]}

    graph = StateGraph(DistillState, context_schema=DistillConfig)
    graph.add_node("next_batch", next_batch)
    graph.add_node("solve_problem", problem_graph)
    graph.add_node("write_experiences", write_experiences)
    graph.add_node("compress", compress)
    graph.add_node("finish_step", finish_step)
    graph.add_edge(START, "next_batch")
    graph.add_conditional_edges("next_batch", fan_out, ["solve_problem", END])
    graph.add_edge("solve_problem", "write_experiences")
    graph.add_edge("write_experiences", "compress")
    graph.add_edge("compress", "finish_step")
    graph.add_edge("finish_step", "next_batch")
    return graph
