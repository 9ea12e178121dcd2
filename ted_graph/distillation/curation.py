"""Experience writing and compression: how the teacher curates the library.

Writing turns one critique into validated ADD/UPDATE/DELETE operations. Compression keeps
the library small and clean: it removes well-used experiences of low utility, merges
near-duplicates (embedding similarity proposes, the teacher decides), rewrites long ones and
caps the size by utility.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.answers import normalize
from ted_graph.config import DistillConfig
from ted_graph.distillation.verification import Candidate, Verdict, Verifier
from ted_graph.library.experience import Experience
from ted_graph.library.library import STORE_ERRORS, ExperienceLibrary
from ted_graph.library.safety import unsafe_reason
from ted_graph.models.structured import (
    MergeDecision,
    Operation,
    OperationBatch,
    Rewrite,
    generate_structured_batch,
)
from ted_graph.prompts import prompt_dirs, render
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
AskMany = Callable[[list[list[BaseMessage]]], list[str]]
_LESSON_FORM = re.compile(r"^(?:when|if|before|after|while|for)\b[^,]{3,},\s*\S", re.IGNORECASE)
_ABOUT_STUDENT = re.compile(r"\bthe student'?s?\b", re.IGNORECASE)
_THIS_ONE = re.compile(
    r"\b(?:in|for) this (?:case|problem|question|example|instance)\b", re.IGNORECASE
)
_ONE_IMAGE = re.compile(
    r"\b(?:this|that|the above|the given|the shown)\s+(?:image|picture|figure|diagram|photo)"
    r"|\b(?:shown|pictured|depicted|drawn)\s+(?:above|here|in this)\b",
    re.IGNORECASE,
)


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


@dataclass
class CompressionReport:
    removed: int = 0
    merged: int = 0
    rewritten: int = 0
    dropped: int = 0


def form_problem(text: str, max_words: int) -> str | None:
    """Why ``text`` is not a well-formed, safe lesson, or ``None`` (see
    :func:`generality_problem` and :func:`ted_graph.library.safety.unsafe_reason`). Every text a
    model proposes (written, merged or rewritten) passes here."""
    words = text.split()
    if len(words) > 2 * max_words:
        return f"too long ({len(words)} words)"
    if len(words) < 6 or "..." in text or "\u2026" in text or re.search(r"<[^>]*>", text):
        return "a placeholder or fragment"
    if not _LESSON_FORM.match(text.strip()):
        return "not of the form 'When <situation>, <advice>'"
    if _ABOUT_STUDENT.search(text):
        return "describes the student instead of advising the solver"
    words = _words(text)
    phrases = _instruction_phrases(tuple(prompt_dirs()))
    if any(" ".join(words[i : i + 6]) in phrases for i in range(len(words) - 5)):
        return "copies the writing instructions"
    return unsafe_reason(text)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@functools.lru_cache(maxsize=4)
def _instruction_phrases(dirs: tuple[object, ...]) -> frozenset[str]:
    """Every run of six words in the writing prompt's own text (a small teacher sometimes
    writes "instead of adding a near-duplicate of one of them, improve it with UPDATE" as
    its advice). ``dirs`` keys the cache on the template folders in use."""
    text = render(
        "write_experiences",
        critique="",
        has_images=True,
        experiences=[{"text": ""}],
        max_operations=3,
        max_words=50,
    )
    words = _words(text)
    return frozenset(" ".join(words[i : i + 6]) for i in range(len(words) - 5))


_NUMERAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")


def _numerals(text: str) -> set[str]:
    """The numbers written in digits in ``text``, without leading zeros ("05" -> "5")."""
    return {m.group().lstrip("0") or "0" for m in _NUMERAL.finditer(text)}


def generality_problem(
    text: str, problem: Problem, max_words: int, *, labels: bool = False
) -> str | None:
    """Why ``text`` is not a general experience for ``problem``, or ``None`` if it is.

    Rejects texts that are not a lesson of the form "When <situation>, <advice>" (also
    "If/Before/After/While/For ..., ..."), placeholders ("When ..., ..."), texts about "the
    student" rather than advice to the solver, texts that copy six consecutive words of the
    writing prompt's instructions, texts under six or over twice ``max_words``
    words, texts that state the problem's answer (answers of four or more characters) or an
    answer key ("the answer is B"), texts that name a number (in digits, other than 0
    and 1) written in the question or the answer ("…an incorrect total of 10 fruits"),
    texts that point at one image ("this figure", "shown above") or at this one problem
    ("In this case, the path has 4 line segments"), and texts that copy
    eight or more consecutive words of the question.

    ``labels=True`` lets a text name the answer when it is one of the problem's listed
    choices: a rule drawn from several problems tells their labels apart ("a path that
    returns to its start is never a line"), which names a label, not one problem's answer.
    """
    why = form_problem(text, max_words)
    if why:
        return why
    norm_text = normalize(text)
    choices = {normalize(c) for c in problem.get("choices") or []} if labels else set()
    for truth in [problem["answer"], *problem.get("accepted", [])]:
        answer = normalize(truth)
        if answer in choices:
            continue
        if len(answer) >= 4 and answer in norm_text:
            return "states this problem's answer"
    if _ONE_IMAGE.search(text):
        return "describes one image"
    if _THIS_ONE.search(text):
        return "speaks of this one problem"
    q = normalize(problem["question"]).split()
    for i in range(len(q) - 7):
        if " ".join(q[i : i + 8]) in norm_text:
            return "copies the question"
    truths = [problem["answer"], *problem.get("accepted", [])]
    specific = _numerals(" ".join([problem["question"], *map(str, truths)])) - {"0", "1"}
    named = sorted(_numerals(text) & specific, key=float)
    if named:
        return f"names this problem's numbers ({', '.join(named)})"
    return None


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


def cap_size(library: ExperienceLibrary, max_size: int, *, step: int) -> int:
    """Remove the lowest-utility active experiences beyond ``max_size``; returns how many
    (:meth:`ExperienceLibrary.cap`).

    Writing calls it before each ADD that would overflow (so the library never holds more
    than ``max_size`` active experiences, even inside a batch); compression calls it too.
    """
    return library.cap(max_size, step=step)


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


def compress_library(
    library: ExperienceLibrary, ask_many: AskMany, *, step: int, cfg: DistillConfig
) -> CompressionReport:
    """Remove, merge, rewrite and cap the library (TED.md, step 6).

    The teacher's merge decisions, then its rewrites, are each asked in one batched request.
    """
    report = CompressionReport()
    # 1. remove: used enough to judge, and of low utility
    for exp in library.all():
        if exp.retrieved >= cfg.min_uses and exp.utility(step) < cfg.min_utility:
            library.remove(exp.id, step=step)
            report.removed += 1
    # 2. merge near-duplicates: similarity proposes (disjoint pairs, most similar first),
    #    the teacher decides; texts with the same words (case and punctuation aside) are
    #    merged at once, keeping the better one's text
    pairs, taken = [], set()
    for first, second, _ in library.similar_pairs(cfg.merge_threshold):
        if first.id in taken or second.id in taken:
            continue
        taken.update({first.id, second.id})
        if _words(first.text) == _words(second.text):
            keep = max((first, second), key=lambda e: (e.utility(step), e.retrieved))
            with library.batch(step):
                library.merge([first.id, second.id], keep.text, step=step)
            report.merged += 1
            continue
        pairs.append((first, second))
    decisions = generate_structured_batch(
        ask_many,
        [
            [
                HumanMessage(
                    content=render("merge", first=a.text, second=b.text, max_words=cfg.max_words)
                )
            ]
            for a, b in pairs
        ],
        MergeDecision,
        retries=cfg.writer_retries,
    )
    for (first, second), (decision, _) in zip(pairs, decisions, strict=True):
        if decision is None or not decision.merge or not decision.text:
            continue
        if form_problem(decision.text, cfg.max_words):
            continue
        with library.batch(step):
            library.merge([first.id, second.id], decision.text, step=step)
        report.merged += 1
    # 3. rewrite long experiences
    long = [exp for exp in library.all() if len(exp.text.split()) > cfg.max_words]
    rewrites = generate_structured_batch(
        ask_many,
        [
            [HumanMessage(content=render("rewrite", text=exp.text, max_words=cfg.max_words))]
            for exp in long
        ],
        Rewrite,
        retries=cfg.writer_retries,
    )
    for exp, (rewrite, _) in zip(long, rewrites, strict=True):
        if (
            rewrite is not None
            and len(rewrite.text.split()) <= cfg.max_words
            and not form_problem(rewrite.text, cfg.max_words)
        ):
            library.update(exp.id, rewrite.text, step=step)
            report.rewritten += 1
    # 4. cap the size, dropping the lowest utility first
    report.dropped = cap_size(library, cfg.max_size, step=step)
    return report


def _why_unverified(verdict: Verdict) -> str:
    if verdict.shown == 0:
        return " (retrieval would not show it on any of them: too far from their questions)"
    if verdict.confirmed is False:
        return " (no gain on the confirmation problems)"
    return ""
