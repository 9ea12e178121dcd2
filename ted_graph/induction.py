"""The step's group comparison: rules induced from several wrong problems side by side.

A comparison of one problem shows the teacher one answer; a rule that tells answers apart
(a closed path is a polygon, not a line) shows only across problems. Once per step the
teacher sees up to ``DistillConfig.group_critique`` of the step's problems the student got
wrong, each with its correct answer and the student's most frequent answer
(prompts/group_critique.jinja), and states the rules that decide them, one "When ..., ..."
line each.

Its rules are taken as written (a small writer, asked to turn them into operations,
rewrote them into something else), pass the same form and generality checks as any lesson,
and are verified **together**: the student solves ``verify_set`` training problems outside
the group (the nearest to it) without and with the whole set, and the rules enter only if
the share of right answers rises by ``verify_margin``. Tried one by one on three problems,
a rule that fixes one wrong answer in six cannot show its gain; the group it came from is
no fair test either, since its problems were chosen for being wrong.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.config import DistillConfig
from ted_graph.curation import WriteReport, cap_size, generality_problem
from ted_graph.library import STORE_ERRORS, ExperienceLibrary
from ted_graph.prompting import problem_text
from ted_graph.prompts import render
from ted_graph.types import Problem, ProblemResult
from ted_graph.verification import Verifier

__all__ = ["GroupRules", "group_critique", "most_frequent_wrong", "parse_rules", "write_rules"]

logger = logging.getLogger(__name__)

AskMany = Callable[[list[list[BaseMessage]]], list[str]]
_MARKER = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|rule\s*\d*\s*[:.])\s*", re.IGNORECASE)
_NEXT_RULE = re.compile(r"(?<=[.!?])\s+(?=(?:when|if)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class GroupRules:
    """What a group comparison gave: the teacher's answer, its valid rules, the group."""

    critique: str
    rules: list[str]
    problems: list[Problem]


def most_frequent_wrong(result: ProblemResult) -> str | None:
    """The student's most frequent wrong answer to a problem (ties: the first given).

    >>> most_frequent_wrong({"rollouts": [
    ...     {"text": "", "answer": "5", "correct": True},
    ...     {"text": "", "answer": "7", "correct": False},
    ...     {"text": "", "answer": None, "correct": False},
    ...     {"text": "", "answer": "7", "correct": False}]})
    '7'
    """
    wrong = Counter(r["answer"] for r in result["rollouts"] if not r["correct"] and r["answer"])
    return wrong.most_common(1)[0][0] if wrong else None


def parse_rules(
    critique: str, problems: Sequence[Problem], cfg: DistillConfig
) -> tuple[list[str], list[tuple[str, str]]]:
    """The valid rules of a group comparison, and ``(text, why)`` for each refused one.

    Every line or sentence that begins with "When" or "If" (list markers and bold dropped)
    is a candidate; it must pass :func:`ted_graph.curation.generality_problem` for every
    problem of the group, which lets it name answers that are listed choices (telling
    labels apart is what such rules do; the first run of them refused "a closed shape ...
    like a triangle" because a triangle answered one problem of the group). At most
    ``cfg.max_operations`` rules are kept, duplicates once.

    >>> text = "Rules:\\n1. **When a path ends where it began, it is closed.** When it has a "
    ... "curve, it is an ellipse.\\n2. When the answer is line, say line."
    >>> parse_rules(text, [{"id": "p", "question": "What shape?", "answer": "line"}],
    ...             DistillConfig())[0]
    ['When a path ends where it began, it is closed.', 'When it has a curve, it is an ellipse.']
    """
    rules: list[str] = []
    refused: list[tuple[str, str]] = []
    for line in critique.splitlines():
        line = _MARKER.sub("", line.replace("**", "")).strip()
        for sentence in _NEXT_RULE.split(line):
            sentence = sentence.strip()
            if not re.match(r"(?:when|if)\b", sentence, re.IGNORECASE):
                continue
            why = next(
                (
                    w
                    for p in problems
                    if (w := generality_problem(sentence, p, cfg.max_words, labels=True))
                ),
                None,
            )
            if why:
                refused.append((sentence, why))
            elif sentence not in rules:
                rules.append(sentence)
    return rules[: cfg.max_operations], refused


def group_critique(
    results: Sequence[ProblemResult],
    problems: Mapping[str, Problem],
    ask_many: AskMany,
    cfg: DistillConfig,
) -> GroupRules | None:
    """Ask the teacher for the rules that decide the step's wrong problems.

    Problems with images are left out (the group prompt is text), as are problems whose
    rollouts gave no wrong answer to show. Fewer than two left, or ``cfg.group_critique``
    below 2: ``None``, and nothing is asked.
    """
    if cfg.group_critique < 2:
        return None
    group = []
    for r in results:
        problem = problems[r["problem_id"]]
        wrong = most_frequent_wrong(r)
        if wrong is None or problem.get("images"):
            continue
        group.append((problem, wrong))
        if len(group) == cfg.group_critique:
            break
    if len(group) < 2:
        return None
    prompt = render(
        "group_critique",
        problems=[
            {"text": problem_text(p), "answer": p["answer"], "wrong": wrong} for p, wrong in group
        ],
        rules=cfg.max_operations,
    )
    critique = ask_many([[HumanMessage(content=prompt)]])[0].strip()
    members = [p for p, _ in group]
    rules, refused = parse_rules(critique, members, cfg)
    for text, why in refused:
        logger.info("group rule rejected, %s: %r", why, text)
    logger.info(
        "group comparison of %d problems: %d valid rules, %d refused: %r",
        len(group), len(rules), len(refused), critique[:300],
    )  # fmt: skip
    return GroupRules(critique, rules, members)


def write_rules(
    library: ExperienceLibrary,
    group: GroupRules,
    *,
    step: int,
    cfg: DistillConfig,
    verifier: Verifier | None = None,
) -> WriteReport:
    """Add a group's rules to the library, all or none.

    With a ``verifier``, the rules are first tried together on the ``cfg.verify_set``
    training problems nearest the group, outside it (:meth:`Verifier.set_verdict`), and
    added only if the share of right answers rises by ``cfg.verify_margin``; the measured
    lift is stored on each. Without one (``verify=False``), they are added as they are.
    """
    report = WriteReport()
    if not group.rules:
        return report
    ids = [p["id"] for p in group.problems]
    measured: dict[str, float | int] = {}
    if verifier is not None:
        sample = verifier.near(group.problems, cfg.verify_set)
        verdict = verifier.set_verdict(group.rules, sample)
        if not verdict.passes(cfg.verify_margin) or not verdict.rollouts:
            logger.info(
                "group of %s: %d rules not verified, success %.2f -> %.2f over %d problems "
                "outside the group: %r",
                ", ".join(ids), len(group.rules), verdict.without, verdict.with_,
                verdict.rollouts, group.rules,
            )  # fmt: skip
            report.unverified += len(group.rules)
            return report
        logger.info(
            "group of %s: %d rules verified together, success %.2f -> %.2f over %d problems",
            ", ".join(ids), len(group.rules), verdict.without, verdict.with_, verdict.rollouts,
        )  # fmt: skip
        measured = {"lift": verdict.lift, "verified": verdict.rollouts}
    try:
        with library.batch(step):  # the rules were tried together: all or nothing
            for text in group.rules:
                if len(library) >= cfg.max_size:
                    report.dropped += cap_size(library, cfg.max_size - 1, step=step)
                library.add(text, step=step, source_ids=ids, **measured)
                report.added += 1
    except STORE_ERRORS as exc:
        logger.warning("group of %s: rules undone after a store error: %s", ", ".join(ids), exc)
        return WriteReport(failed=1)
    return report
