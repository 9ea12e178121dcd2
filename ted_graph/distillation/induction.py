"""The step's group comparison: rules induced from several wrong problems side by side.

A comparison of one problem shows the teacher one answer; a rule that tells answers apart
(a closed path is a polygon, not a line) shows only across problems. Once per step the
teacher sees up to ``DistillConfig.group_critique`` of the step's problems the student got
wrong, each with its correct answer and the student's most frequent answer
(prompts/group_critique.jinja); it first notes, per correct answer, what its problems show
that the others do not, then states the rules that decide them, one "When ..., ..." line
each. Asked for rules straight away, the 1.5B teacher restated the question ("the answer is
the shape that matches the path"); with the notes first it named features ("When the path
has eight sides, it is an octagon"). It is asked ``group_proposals`` times, the group
shown in a different order each time, in one batched request: a small teacher's rules vary
with what it reads first, and verification picks among them.

Its rules are taken as written (a small writer, asked to turn them into operations,
rewrote them into something else), pass the same form and generality checks as any lesson,
and each proposal is verified **as a set**: the student solves ``verify_set`` training
problems outside the group (the nearest to it) without and with the whole set, and the
proposal with the largest rise enters, if that rise reaches ``verify_margin``. Tried one
by one on three problems, a rule that fixes one wrong answer in six cannot show its gain;
the group it came from is no fair test either, since its problems were chosen for being
wrong.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.answers import extract_answer, grade
from ted_graph.config import DistillConfig
from ted_graph.distillation.curation import WriteReport, add_within_cap, generality_problem
from ted_graph.distillation.verification import Verifier
from ted_graph.library.library import STORE_ERRORS, ExperienceLibrary
from ted_graph.library.prompting import problem_text
from ted_graph.prompts import render
from ted_graph.types import Problem, ProblemResult

__all__ = [
    "GroupRules",
    "group_critique",
    "most_frequent_wrong",
    "parse_rules",
    "reaches_answer",
    "write_rules",
]

logger = logging.getLogger(__name__)

AskMany = Callable[[list[list[BaseMessage]]], list[str]]
# list markers and "Rule 2:" labels, nested ("- Rule: When ...", the notes-first prompt's answers)
_MARKER = re.compile(r"^\s*(?:(?:[-*\u2022]|\d+[.)]|rule\s*\d*\s*[:.])\s*)+", re.IGNORECASE)
_NEXT_RULE = re.compile(r"(?<=[.!?])\s+(?=(?:when|if)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class GroupRules:
    """What a group comparison gave: the teacher's answers, the valid rules of each (one
    proposal per answer), and the group."""

    critiques: list[str]
    proposals: list[list[str]]
    problems: list[Problem]

    @property
    def candidates(self) -> list[list[str]]:
        """The proposals that hold a rule, each once."""
        out: list[list[str]] = []
        for rules in self.proposals:
            if rules and rules not in out:
                out.append(rules)
        return out


def reaches_answer(solution: str | None, problem: Problem) -> bool:
    """Whether a solution's answer is right for ``problem`` (``None``: no solution)."""
    if not solution:
        return False
    return grade(extract_answer(solution, problem.get("choices")), problem)


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


#: A rule's situation that names the prompt ("When a worked solution is given, ...").
_META = re.compile(
    r"\b(?:student|worked solution|solutions? (?:above|shown|given)|these (?:rules|problems"
    r"|solutions)|the rules?|most frequent answer|correct answer is given)\b",
    re.IGNORECASE,
)
_STEP = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)]|step\s*\d+\s*[:.])\s*", re.IGNORECASE)


def _join_steps(text: str) -> list[str]:
    """The lines of ``text``, a "When ...:" line joined with the list of steps under it
    ("When counting a letter, do this: spell ...; count ..." is one rule, not a bare header;
    the steps' numbers go, as a number in a rule must not look like a problem's).

    >>> _join_steps("When counting a letter:\\n1. Spell the text.\\n2. Count it.\\nWhen done.")
    ['When counting a letter: Spell the text; Count it', 'When done.']
    """
    lines: list[str] = []
    open_rule = False
    for raw in text.splitlines():
        line = raw.strip()
        bare = _MARKER.sub("", line.replace("**", "")).strip()
        is_rule = bool(re.match(r"(?:when|if)\b", bare, re.IGNORECASE))
        if open_rule and line and _STEP.match(line) and not is_rule:
            step = _STEP.sub("", line).rstrip(".;")
            lines[-1] = f"{lines[-1]}{' ' if lines[-1].endswith(':') else '; '}{step}"
            continue
        lines.append(line)
        open_rule = is_rule and bare.endswith(":")
    return lines


def parse_rules(
    critique: str, problems: Sequence[Problem], cfg: DistillConfig
) -> tuple[list[str], list[tuple[str, str]]]:
    """The valid rules of a group comparison, and ``(text, why)`` for each refused one.

    Every line or sentence that begins with "When" or "If" (list markers and bold dropped)
    is a candidate; it must pass :func:`ted_graph.distillation.curation.generality_problem` for
    every
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
    for line in _join_steps(critique):
        line = _MARKER.sub("", line.replace("**", "")).strip()
        for sentence in _NEXT_RULE.split(line):
            sentence = sentence.strip()
            if not re.match(r"(?:when|if)\b", sentence, re.IGNORECASE):
                continue
            situation = re.split(r"[,:]", sentence, maxsplit=1)[0]
            why = "it is about the prompt, not a problem" if _META.search(situation) else None
            why = why or next(
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
    below 2: ``None``, and nothing is asked. Where two or more of them have a teacher
    solution that reaches the answer, the group is those problems, shown with their
    solutions, and the teacher states the method they share (prompts/group_procedure.jinja):
    on procedural tasks (durations, counting letters) the rule that helps is a procedure,
    which the solutions hold and the answers alone do not show.
    """
    if cfg.group_critique < 2:
        return None
    group = []
    for r in results:
        problem = problems[r["problem_id"]]
        wrong = most_frequent_wrong(r)
        if wrong is None or problem.get("images"):
            continue
        solution = r.get("teacher_solution")
        solution = solution if reaches_answer(solution, problem) else None
        group.append((problem, wrong, solution))
        if len(group) == cfg.group_critique:
            break
    if len(group) < 2:
        return None
    # with two or more right solutions, the teacher states the method they share
    solved = [g for g in group if g[2] is not None]
    template, group = ("group_procedure", solved) if len(solved) >= 2 else ("group_critique", group)
    requests = []
    for i in range(cfg.group_proposals):
        order = list(group)
        if i:  # the first as the step gave them, then seeded shuffles
            random.Random(cfg.seed * 7919 + i).shuffle(order)
        prompt = render(
            template,
            problems=[
                {"text": problem_text(p), "answer": p["answer"], "wrong": wrong, "solution": s}
                for p, wrong, s in order
            ],
            rules=cfg.max_operations,
        )
        requests.append([HumanMessage(content=prompt)])
    critiques = [text.strip() for text in ask_many(requests)]
    members = [p for p, _, _ in group]
    proposals = []
    for critique in critiques:
        rules, refused = parse_rules(critique, members, cfg)
        for text, why in refused:
            logger.info("group rule rejected, %s: %r", why, text)
        logger.info(
            "group comparison of %d problems: %d valid rules, %d refused: %r",
            len(group), len(rules), len(refused), critique[:300],
        )  # fmt: skip
        proposals.append(rules)
    return GroupRules(critiques, proposals, members)


def write_rules(
    library: ExperienceLibrary,
    group: GroupRules,
    *,
    step: int,
    cfg: DistillConfig,
    verifier: Verifier | None = None,
) -> WriteReport:
    """Add one proposal of a group's rules to the library, all of its rules or none.

    With a ``verifier``, every proposal is tried as a set on the ``cfg.verify_set``
    training problems nearest the group, outside it (:meth:`Verifier.set_verdicts`); the
    one whose share of right answers rises most is added if the rise reaches
    ``cfg.verify_margin``, with the measured lift stored on each rule. Without one
    (``verify=False``), the first proposal is added as it is.
    """
    report = WriteReport()
    candidates = group.candidates
    if not candidates:
        return report
    ids = [p["id"] for p in group.problems]
    chosen = candidates[0]
    measured: dict[str, float | int] = {}
    if verifier is not None:
        sample = verifier.near(group.problems, cfg.verify_set)
        verdicts = verifier.set_verdicts(candidates, sample)
        for rules, verdict in zip(candidates, verdicts, strict=True):
            logger.info(
                "group of %s: %d rules tried together, success %.2f -> %.2f over %d problems "
                "outside the group: %r",
                ", ".join(ids), len(rules), verdict.without, verdict.with_, verdict.rollouts,
                rules,
            )  # fmt: skip
        best = max(range(len(candidates)), key=lambda i: verdicts[i].lift)
        verdict = verdicts[best]
        if not verdict.rollouts or not verdict.passes(cfg.verify_margin):
            logger.info("group of %s: no proposal verified", ", ".join(ids))
            report.unverified += sum(len(rules) for rules in candidates)
            return report
        chosen, measured = candidates[best], {"lift": verdict.lift, "verified": verdict.rollouts}
        report.unverified += sum(len(rules) for i, rules in enumerate(candidates) if i != best)
    try:
        with library.batch(step):  # the rules were tried together: all or nothing
            for text in chosen:
                report.dropped += add_within_cap(
                    library, text, step=step, cfg=cfg, source_ids=ids, **measured
                )
                report.added += 1
    except STORE_ERRORS as exc:
        logger.warning("group of %s: rules undone after a store error: %s", ", ".join(ids), exc)
        return WriteReport(failed=1)
    return report
