"""The experience record (TED.md's data model) and its utility formula."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

__all__ = ["Experience", "experience_id", "format_table", "Status"]

Status = Literal["active", "merged", "removed"]

#: Steps after which an unused experience's recency weight halves.
RECENCY_HALF_LIFE = 20.0


def experience_id(text: str) -> str:
    """A stable id for an experience text: the same text always gets the same id.

    Whitespace and case do not matter, so a repeated write is a no-op.

    Example:
        >>> a = experience_id("When counting, list items.")
        >>> a == experience_id("when counting,  list items.")
        True
    """
    canon = re.sub(r"\s+", " ", text.strip().lower())
    return "exp-" + hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]


@dataclass
class Experience:
    """A short, general lesson plus its provenance and usage statistics.

    Usage statistics count *rollouts*: ``retrieved`` is how many student rollouts had the
    experience in their prompt, ``helpful`` how many of those were right, and ``harmful``
    how many were wrong while the teacher's critique blamed the experience or the problem's
    accuracy fell since the previous visit. ``lift`` is the rise in the student's share of
    right answers that verification measured before the lesson entered
    (:mod:`ted_graph.distillation.verification`), over ``verified`` rollouts per condition; 0 and 0
    for
    an unverified lesson.
    """

    id: str
    text: str
    tags: list[str] = field(default_factory=list)
    domain: str = ""
    source_ids: list[str] = field(default_factory=list)
    created_step: int = 0
    updated_step: int = 0
    version: int = 1
    status: Status = "active"
    merged_into: str = ""
    retrieved: int = 0
    helpful: int = 0
    harmful: int = 0
    last_used_step: int = -1
    lift: float = 0.0
    verified: int = 0

    def utility(self, step: int | None = None, half_life: float = RECENCY_HALF_LIFE) -> float:
        """Smoothed helpful rate weighted by recency, in ``[0, 1]``.

        ``(helpful + 1 + g) / (helpful + harmful + 2 + g)``, a Beta(1, 1) prior (an unused,
        unverified experience scores 0.5) plus ``g = max(lift, 0) * verified`` helpful
        pseudo-counts from verification, multiplied by ``0.5 ** (idle / half_life)`` where
        ``idle`` is the number of steps since the experience was last retrieved (no decay if
        it never was, or if ``step`` is not given). This formula is ted-graph's choice, not the
        paper's.

        Example:
            >>> Experience(id="e", text="t", helpful=8, harmful=0).utility()
            0.9
        """
        bonus = max(self.lift, 0.0) * self.verified
        rate = (self.helpful + 1 + bonus) / (self.helpful + self.harmful + 2 + bonus)
        if step is None or self.last_used_step < 0:
            return rate
        idle = max(0, step - self.last_used_step)
        return rate * 0.5 ** (idle / half_life)

    # --- (de)serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Experience:
        known = {f.name for f in fields(cls)}
        missing = {"id", "text"} - data.keys()
        if missing:
            raise ValueError(f"experience record lacks {sorted(missing)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_metadata(self) -> dict[str, str | int | float | bool]:
        """Chroma metadata (scalars only; lists are JSON-encoded). The text is the document."""
        meta: dict[str, str | int | float | bool] = {}
        for f in fields(self):
            if f.name in ("id", "text"):
                continue
            value = getattr(self, f.name)
            meta[f.name] = json.dumps(value) if isinstance(value, list) else value
        return meta

    @classmethod
    def from_record(cls, id: str, document: str, metadata: dict[str, Any] | None) -> Experience:
        data: dict[str, Any] = {"id": id, "text": document}
        for key, value in (metadata or {}).items():
            if key in ("tags", "source_ids") and isinstance(value, str):
                value = json.loads(value)
            data[key] = value
        return cls.from_dict(data)


def format_table(experiences: list[Experience], *, step: int | None = None) -> str:
    """A plain-text table of experiences and their statistics, for terminals."""
    header = (
        f"{'id':<16} {'status':<8} {'util':>5} {'used':>5} {'good':>5} {'bad':>4} {'ver':>3}  text"
    )
    rows = [
        f"{e.id:<16} {e.status:<8} {e.utility(step):>5.2f} {e.retrieved:>5} {e.helpful:>5} "
        f"{e.harmful:>4} {e.version:>3}  {e.text}"
        for e in experiences
    ]
    return "\n".join([header, *rows])
