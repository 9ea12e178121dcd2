"""Online learning: turn feedback on a served answer into usage statistics and experiences.

Distillation learns from a training set offline. Once a student serves requests, feedback
keeps teaching it: a score or a ground truth updates the usage statistics of the
experiences that were in the answer's prompt (so compression can later drop the ones that
mislead), and, when a teacher is configured and the answer was wrong, the teacher
critiques the answer against the ground truth or correction and writes experiences
through the same validated path as distillation.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from typing_extensions import TypedDict

from ted_graph.answers import extract_answer, grade, is_correct
from ted_graph.config import DistillConfig
from ted_graph.distillation.curation import write_from_critiques
from ted_graph.distillation.nodes import parse_critique, teacher_asker, writer_asker_many
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import problem_message, problem_text
from ted_graph.prompts import render
from ted_graph.types import Problem, RetrievedExperience

__all__ = ["Feedback", "FeedbackReport", "learn_from_feedback", "validate_feedback"]

logger = logging.getLogger(__name__)


class Feedback(TypedDict, total=False):
    """Feedback on one answer; give at least one field.

    * ``score``: 0-1 (or a bool), from a user or a grader; 0.5 and above count as right.
    * ``answer``: the ground-truth answer; the response is graded against it.
    * ``correction``: a correct solution or explanation (implies the answer was wrong).
    """

    score: float
    answer: str
    correction: str


@dataclass
class FeedbackReport:
    """What one piece of feedback changed."""

    correct: bool | None
    recorded: list[str] = field(default_factory=list)  # experiences whose statistics moved
    misleading: list[str] = field(default_factory=list)  # named by the teacher's critique
    critique: str | None = None
    writes: dict[str, int] = field(default_factory=dict)  # added/updated/deleted/rejected

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_feedback(feedback: Any) -> Feedback:
    """Check a feedback dict; raises ``ValueError`` naming the bad field."""
    if not isinstance(feedback, dict):
        raise ValueError(f"feedback must be a dict, got {type(feedback).__name__}")
    unknown = set(feedback) - {"score", "answer", "correction"}
    if unknown:
        raise ValueError(f"feedback has unknown field(s) {sorted(unknown)}")
    out: Feedback = {}
    score = feedback.get("score")
    if score is not None:
        if not isinstance(score, (int, float)) or not 0 <= float(score) <= 1:
            raise ValueError(f"feedback 'score' must be a number in [0, 1], got {score!r}")
        out["score"] = float(score)
    for key in ("answer", "correction"):
        value = feedback.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"feedback {key!r} must be a string")
        if str(value).strip():
            out[key] = str(value).strip()  # type: ignore[literal-required]
    if not out:
        raise ValueError("feedback needs a 'score', an 'answer' or a 'correction'")
    return out


def _problem(question: str | Problem, answer: str) -> Problem:
    if isinstance(question, dict):
        return {**question, "answer": answer or question.get("answer", "")}
    digest = hashlib.sha256(question.encode("utf-8")).hexdigest()[:10]
    return {"id": f"online-{digest}", "question": question, "answer": answer}


def _current_step(library: ExperienceLibrary) -> int:
    """The latest step any experience was written or used at (online writes follow it)."""
    steps = [max(e.updated_step, e.last_used_step) for e in library.all(status=None)]
    return max(steps, default=0)


def learn_from_feedback(
    library: ExperienceLibrary,
    *,
    question: str | Problem,
    response: str,
    experiences: Sequence[RetrievedExperience | str],
    feedback: Feedback | dict[str, Any],
    teacher: BaseChatModel | None = None,
    config: DistillConfig | None = None,
    step: int | None = None,
) -> FeedbackReport:
    """Record feedback on one answer in the library, and learn from it when it was wrong.

    Args:
        library: the library the answer's experiences came from.
        question: the question (a string or a :class:`Problem`, whose ``choices`` then
            grade multiple-choice answers).
        response: the model's full answer.
        experiences: what was in the answer's prompt (records or ids).
        feedback: see :class:`Feedback`.
        teacher: optional; with a ground truth or correction and a wrong answer, it
            critiques the answer (naming misleading experiences) and writes experiences.
        config: writing settings (``max_words``, ``max_operations``, ...).
        step: the step stamped on the changes; default: the library's latest.

    Without a critique to say which experience misled (no teacher, or feedback with only a
    score, which a teacher cannot critique), a wrong answer counts against every experience
    in its prompt; with one, only against those the critique names.

    Example:
        >>> lib = ExperienceLibrary.in_memory()
        >>> exp = lib.add("When counting objects, list each item with its quantity first.")
        >>> report = learn_from_feedback(
        ...     lib, question="I have 2 apples and 3 pears. How many fruits?",
        ...     response="2 + 3 = 5. Answer: 5", experiences=[exp.id], feedback={"answer": "5"})
        >>> report.correct, lib.get(exp.id).helpful
        (True, 1)
    """
    fb = validate_feedback(dict(feedback))
    cfg = config or DistillConfig()
    problem = _problem(question, fb.get("answer", ""))
    choices = problem.get("choices")
    predicted = extract_answer(response, choices)
    correct: bool | None
    if "answer" in fb and (problem.get("metadata") or {}).get("grader"):
        correct = grade(predicted, problem)  # the task's own scorer (a reasoning-gym task)
    elif "answer" in fb:
        correct = is_correct(predicted, fb["answer"], choices)
    elif "score" in fb:
        correct = fb["score"] >= 0.5
    else:
        correct = False  # a correction says the answer was wrong
    ids = [e if isinstance(e, str) else e["id"] for e in experiences]
    step = _current_step(library) if step is None else step
    report = FeedbackReport(correct=correct)

    critiqued = not correct and teacher is not None and ("answer" in fb or "correction" in fb)
    if critiqued:
        shown = [e for e in (library.get(i) for i in ids) if e is not None]
        shown_records = [{"id": e.id, "text": e.text, "score": 0.0} for e in shown]
        ask = teacher_asker(teacher, cfg)
        prompt = render(
            "compare",
            problem=problem_text(problem),
            answer=fb.get("answer", "(see the solution)"),
            teacher_solution=fb.get("correction", "(none)"),
            rollouts=[{"text": response, "answer": predicted, "correct": False, "number": 1}],
            total_rollouts=1,
            experiences=shown_records,
        )
        critique, _, misleading = parse_critique(
            ask([problem_message(prompt, problem)]),
            shown_records,  # type: ignore[arg-type]
        )
        report.critique, report.misleading = critique or None, misleading
        if critique:
            write = writer_asker_many(teacher, cfg)
            written = write_from_critiques(
                library, write, [(critique, problem)], step=step, cfg=cfg
            )
            report.writes = {k: v for k, v in vars(written).items()}
    blamed = set(report.misleading) if critiqued else set(ids)
    usage = {i: (1, 1 if correct else 0, 1 if not correct and i in blamed else 0) for i in ids}
    library.record_usage(usage, step=step)
    report.recorded = [i for i in ids if library.get(i) is not None]
    logger.info("feedback on %s: correct=%s, %s", problem["id"], correct, report.writes)
    return report
