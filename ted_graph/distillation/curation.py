"""Experience writing: how the teacher curates the library from its critiques.

Writing turns critiques into validated ADD/UPDATE/DELETE operations (checked by
:mod:`~ted_graph.distillation.lessons`, verified by
:mod:`~ted_graph.distillation.verification` when asked). Compression, the other half of
curation, lives in :mod:`~ted_graph.distillation.compression` and is re-exported here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.config import DistillConfig
from ted_graph.distillation.compression import (
    AskMany,
    CompressionReport,
    cap_size,
    compress_library,
)
from ted_graph.distillation.lessons import form_problem, generality_problem
from ted_graph.distillation.verification import Candidate, Verdict, Verifier
from ted_graph.library.experience import Experience
from ted_graph.library.library import STORE_ERRORS, ExperienceLibrary
from ted_graph.models.structured import (
    Operation,
    OperationBatch,
    generate_structured_batch,
)
from ted_graph.prompts import render
from ted_graph.types import Problem

__all__ = [
    "form_problem",
    "WriteReport",
    "CompressionReport",
    "write_from_critique",
    "write_from_critiques",
    "compress_library",
    "generality_problem",
    "cap_size",
    "add_within_cap",
]

logger = logging.getLogger(__name__)
Ask = Callable[[list[BaseMessage]], str]


@dataclass
class WriteReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0  # proposed operations that validation refused
    unverified: int = 0  # valid lessons that did not raise the student's success when tried
    unparsed: int = 0  # critiques whose answer held no valid operations, after retries
    failed: int = 0  # critiques whose valid operations the store failed to apply (undone)
    dropped: int = 0  # lowest-utility experiences removed to stay within max_size

    def __iadd__(self, other: WriteReport) -> WriteReport:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)
        return self


def write_from_critique(
    library: ExperienceLibrary,
    ask: Ask,
    critique: str,
    problem: Problem,
    *,
    step: int,
    cfg: DistillConfig,
) -> WriteReport:
    """:func:`write_from_critiques` for one critique, with a one-request ``ask``."""
    return write_from_critiques(
        library,
        lambda batch: [ask(m) for m in batch],
        [(critique, problem)],
        step=step,
        cfg=cfg,
    )


def write_from_critiques(
    library: ExperienceLibrary,
    ask_many: AskMany,
    critiques: Sequence[tuple[str, Problem]],
    *,
    step: int,
    cfg: DistillConfig,
    verifier: Verifier | None = None,
) -> WriteReport:
    """Let the teacher turn critiques into library operations, validate and apply them.

    For each critique the teacher sees the most similar existing experiences as
    ``E1..Ek`` and may refine (UPDATE) or delete them; ids it invents are rejected. All
    critiques of a step are sent in one batched request. With a ``verifier``, every valid
    ADD and UPDATE of the step is then tried on the student, as retrieval would serve it,
    in one batched call, and kept only if it raised the share of right answers by
    ``cfg.verify_margin`` and, when a confirmation round ran, won there too
    (:mod:`ted_graph.distillation.verification`). The operations are applied in the order of
    ``critiques``.
    """
    report = WriteReport()
    shown_per: list[list[Experience]] = []
    requests: list[list[BaseMessage]] = []
    for critique, problem in critiques:
        shown = [exp for exp, _ in library.search(critique, k=max(cfg.k, 3))]
        shown_per.append(shown)
        prompt = render(
            "write_experiences",
            critique=critique,
            has_images=bool(problem.get("images")),
            experiences=[{"text": e.text} for e in shown],
            max_operations=cfg.max_operations,
            max_words=cfg.max_words,
        )
        requests.append([HumanMessage(content=prompt)])
    answers = generate_structured_batch(
        ask_many, requests, OperationBatch, retries=cfg.writer_retries
    )
    verdicts = _verify(library, answers, critiques, shown_per, verifier, cfg)
    for i, ((_, problem), shown, (batch, reason)) in enumerate(
        zip(critiques, shown_per, answers, strict=True)
    ):
        if batch is None:
            logger.info("problem %s: no valid operations (%s)", problem["id"], reason)
            report.unparsed += 1
            continue
        try:
            with library.batch(step):  # one critique's operations: all or nothing
                applied = _apply(
                    library, batch, shown, problem, step=step, cfg=cfg, verdicts=verdicts[i]
                )
                applied.dropped += cap_size(library, cfg.max_size, step=step)
        except STORE_ERRORS as exc:  # the store failed mid-batch: undone, logged, skipped
            logger.warning(
                "problem %s: operations undone after a store error: %s", problem["id"], exc
            )
            report.failed += 1
            continue
        report += applied
    return report


def _target(op: Operation, shown: list[Experience]) -> str | None:
    """The library id an UPDATE or DELETE names (``E2`` or a real id), if it was shown."""
    labels = {f"E{i}": e.id for i, e in enumerate(shown, start=1)}
    labels.update({e.id: e.id for e in shown})
    return labels.get((op.id or "").strip().strip("[]").upper()) or labels.get(op.id or "")


def _verify(
    library: ExperienceLibrary,
    answers: Sequence[tuple[OperationBatch | None, str | None]],
    critiques: Sequence[tuple[str, Problem]],
    shown_per: Sequence[list[Experience]],
    verifier: Verifier | None,
    cfg: DistillConfig,
) -> list[dict[int, Verdict]]:
    """Verdicts for the valid ADD and UPDATE operations of every batch, by operation index."""
    out: list[dict[int, Verdict]] = [{} for _ in critiques]
    if verifier is None:
        return out
    where: list[tuple[int, int]] = []
    candidates: list[Candidate] = []
    for i, ((_, problem), shown, (batch, _)) in enumerate(
        zip(critiques, shown_per, answers, strict=True)
    ):
        for j, op in enumerate((batch.operations if batch else [])[: cfg.max_operations]):
            if op.op not in ("ADD", "UPDATE") or op.text is None:
                continue
            if generality_problem(op.text, problem, cfg.max_words):
                continue  # rejected anyway (form, safety, specifics): not worth trying
            target = _target(op, shown) if op.op == "UPDATE" else None
            if op.op == "UPDATE" and target is None:
                continue
            where.append((i, j))
            candidates.append(Candidate(op.text, problem, replaces=target))
    for (i, j), verdict in zip(where, verifier.verdicts(candidates), strict=True):
        out[i][j] = verdict
    return out


def add_within_cap(
    library: ExperienceLibrary, text: str, *, step: int, cfg: DistillConfig, **record: Any
) -> int:
    """Add ``text`` (``record``: ``source_ids``, ``lift``, ``verified``), first making room
    if the library is full, so the cap holds at every write; returns how many were dropped."""
    dropped = cap_size(library, cfg.max_size - 1, step=step) if len(library) >= cfg.max_size else 0
    library.add(text, step=step, **record)
    return dropped


def _apply(
    library: ExperienceLibrary,
    batch: OperationBatch,
    shown: list[Experience],
    problem: Problem,
    *,
    step: int,
    cfg: DistillConfig,
    verdicts: dict[int, Verdict] | None = None,
) -> WriteReport:
    report = WriteReport()
    verdicts = verdicts or {}
    for j, op in enumerate(batch.operations[: cfg.max_operations]):
        if op.op == "NONE":
            continue
        target = _target(op, shown)
        current = library.get(target) if target else None
        if op.op in ("UPDATE", "DELETE") and (current is None or current.status != "active"):
            logger.info("problem %s: %s of unknown id %r rejected", problem["id"], op.op, op.id)
            report.rejected += 1
            continue
        if op.text is not None:
            why = generality_problem(op.text, problem, cfg.max_words)
            if why:
                logger.info("problem %s: experience rejected, %s: %r", problem["id"], why, op.text)
                report.rejected += 1
                continue
        verdict = verdicts.get(j)
        if verdict is not None and not verdict.passes(cfg.verify_margin):
            logger.info(
                "problem %s: experience not verified, success %.2f -> %.2f over %d rollouts%s: %r",
                problem["id"], verdict.without, verdict.with_, verdict.rollouts,
                _why_unverified(verdict),
                op.text,
            )  # fmt: skip
            report.unverified += 1
            continue
        measured = {"lift": verdict.lift, "verified": verdict.rollouts} if verdict else {}
        if op.op == "ADD":
            assert op.text is not None
            report.dropped += add_within_cap(
                library, op.text, step=step, cfg=cfg, source_ids=[problem["id"]], **measured
            )
            report.added += 1
        elif op.op == "UPDATE":
            assert op.text is not None and target is not None
            library.update(target, op.text, step=step, source_ids=[problem["id"]], **measured)
            report.updated += 1
        elif op.op == "DELETE":
            assert target is not None
            library.remove(target, step=step)
            report.deleted += 1
    return report


def _why_unverified(verdict: Verdict) -> str:
    if verdict.shown == 0:
        return " (retrieval would not show it on any of them: too far from their questions)"
    if verdict.confirmed is False:
        return " (no gain on the confirmation problems)"
    return ""
