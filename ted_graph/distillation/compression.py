"""Compression: the teacher keeps the library small and clean (TED.md, step 6).

It removes well-used experiences of low utility, merges near-duplicates (embedding
similarity proposes, the teacher decides), rewrites long ones and caps the size by utility.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.config import DistillConfig
from ted_graph.distillation.lessons import form_problem, same_words_key
from ted_graph.library.library import ExperienceLibrary
from ted_graph.models.structured import MergeDecision, Rewrite, generate_structured_batch
from ted_graph.prompts import render

__all__ = ["CompressionReport", "compress_library", "cap_size"]

AskMany = Callable[[list[list[BaseMessage]]], list[str]]


@dataclass
class CompressionReport:
    removed: int = 0
    merged: int = 0
    rewritten: int = 0
    dropped: int = 0


def cap_size(library: ExperienceLibrary, max_size: int, *, step: int) -> int:
    """Remove the lowest-utility active experiences beyond ``max_size``; returns how many
    (:meth:`ExperienceLibrary.cap`).

    Writing calls it before each ADD that would overflow (so the library never holds more
    than ``max_size`` active experiences, even inside a batch); compression calls it too.
    """
    return library.cap(max_size, step=step)


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
        if same_words_key(first.text) == same_words_key(second.text):
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
