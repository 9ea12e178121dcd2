"""Typed records that flow through ted-graph: problems, rollouts and per-problem results."""

from __future__ import annotations

from typing import Any, TypedDict

from typing_extensions import NotRequired, Required


class Problem(TypedDict, total=False):
    """One training or evaluation problem.

    ``answer`` is the ground truth. For multiple choice, ``choices`` lists the options and
    ``answer`` is the text of the right one (a letter such as ``"B"`` is accepted too).
    ``accepted`` lists other answers that also count as right (a shape that is both a
    circle and an ellipse).
    """

    id: Required[str]
    question: Required[str]
    answer: Required[str]
    choices: NotRequired[list[str]]
    accepted: NotRequired[list[str]]
    images: NotRequired[list[str]]
    metadata: NotRequired[dict[str, Any]]


class RetrievedExperience(TypedDict):
    """An experience as it was put into a prompt."""

    id: str
    text: str
    score: float


class Rollout(TypedDict):
    """One student attempt at a problem."""

    text: str
    answer: str | None
    correct: bool


class ProblemResult(TypedDict):
    """What one problem produced in one distillation step."""

    problem_id: str
    step: int
    experience_ids: list[str]
    rollouts: list[Rollout]
    accuracy: float
    previous_accuracy: float | None
    teacher_solution: str | None
    critique: str | None
    critique_fallback: bool
    """The teacher gave no critique; ``critique`` is prompts/fallback_critique.jinja."""
    helpful_ids: list[str]
    misleading_ids: list[str]


class StepRecord(TypedDict):
    """Summary of one finished distillation step (one batch)."""

    step: int
    epoch: int
    problems: int
    rollout_accuracy: float
    critiqued: int
    """Problems the teacher critiqued itself (fallback critiques not counted)."""
    fallback_critiques: int
    """Problems whose critique was the fallback (the teacher wrote none)."""
    added: int
    updated: int
    deleted: int
    rejected: int
    """Proposed operations that validation refused."""
    unverified: int
    """Valid lessons that verification refused (the student did not do better with them)."""
    unparsed: int
    """Critiques whose answer held no valid operations (after the writer's retries)."""
    failed: int
    """Critiques whose operations the store failed to apply (each batch undone)."""
    examples: int
    """Teacher solutions that were right and were stored as worked examples."""
    compressed: bool
    library_size: int
    seconds: float
