"""What a distillation produced: :class:`DistillResult`, to save, load, inspect and serve."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from ted_graph.config import DistillConfig
from ted_graph.distillation.selection import ValidationReport
from ted_graph.library.examples import WorkedExample
from ted_graph.library.experience import Experience
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import retrieve_examples, retrieve_experiences, student_messages
from ted_graph.types import Problem, StepRecord

__all__ = ["DistillResult"]


RESULT_FILE = "result.json"
EXPERIENCES_FILE = "experiences.json"
EXAMPLES_FILE = "examples.json"


@dataclass
class DistillResult:
    """What a distillation produced: the library, its history and the run settings.

    Save it with :meth:`save`, reopen it with :meth:`load`, and serve the student with
    :meth:`student_messages`, which builds the prompt with retrieved experiences.
    """

    library: ExperienceLibrary
    config: DistillConfig
    history: list[StepRecord] = field(default_factory=list)
    teacher_solutions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)
    """Per model: calls, prompt and completion tokens and seconds (see ``track_usage``)."""
    validation: ValidationReport | None = None
    """Validation accuracies and the kept version (``DistillConfig.validation``)."""

    @property
    def experiences(self) -> list[Experience]:
        """The active experiences, oldest first."""
        return self.library.all()

    def student_messages(self, problem: Problem | str) -> list[BaseMessage]:
        """The student's prompt for ``problem`` with its retrieved experiences (serving)."""
        if isinstance(problem, str):
            problem = {"id": "query", "question": problem, "answer": ""}
        exps = retrieve_experiences(
            self.library,
            problem,
            k=self.config.k,
            min_similarity=self.config.min_similarity,
            max_tokens=self.config.max_experience_tokens,
        )
        shown = retrieve_examples(self.library, problem, k=self.config.examples)
        return student_messages(problem, exps, shown)

    def summary(self) -> str:
        """A few lines for a terminal."""
        lines = [
            f"{len(self.history)} steps in {self.seconds:.0f}s; "
            f"{len(self.library)} active experiences",
        ]
        if self.history:
            first, last = self.history[0], self.history[-1]
            lines.append(
                f"rollout accuracy: first step {first['rollout_accuracy']:.2f}, "
                f"last step {last['rollout_accuracy']:.2f}"
            )
            keys = ("critiqued", "fallback_critiques", "added", "updated", "deleted",
                    "rejected", "unverified", "unparsed", "failed")  # fmt: skip
            totals = {key: sum(int(h.get(key, 0)) for h in self.history) for key in keys}
            fallback = totals["fallback_critiques"]
            lines.append(
                f"teacher: {totals['critiqued']} critiques"
                + (f" (+{fallback} fallback: it wrote none)" if fallback else "")
                + "; library operations: "
                f"{totals['added']} added, {totals['updated']} updated, {totals['deleted']} "
                f"deleted, {totals['rejected']} rejected by validation, {totals['unverified']} "
                "refused by verification (see docs/algorithm.md)"
            )
            if totals["unparsed"]:
                lines.append(f"{totals['unparsed']} critique(s) gave no valid operations")
            if totals["failed"]:
                lines.append(
                    f"WARNING: {totals['failed']} critique(s) failed to write (store errors; "
                    "each batch was undone; see the log)"
                )
        if self.validation is not None:
            lines.append(self.validation.summary())
        return "\n".join(lines)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``experiences.json`` (a library export), ``examples.json`` (the worked
        examples, when there are any) and ``result.json`` to ``path``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.library.export_json(folder / EXPERIENCES_FILE)
        examples = [e.to_dict() for e in self.library.examples.all()]
        if examples:
            (folder / EXAMPLES_FILE).write_text(
                json.dumps({"examples": examples}, indent=2, ensure_ascii=False), encoding="utf-8"
            )
        payload = {
            "config": self.config.to_dict(),
            "history": self.history,
            "teacher_solutions": self.teacher_solutions,
            "seconds": self.seconds,
            "usage": self.usage,
            "validation": self.validation.to_dict() if self.validation else None,
        }
        (folder / RESULT_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, library: ExperienceLibrary | None = None
    ) -> DistillResult:
        """Reopen a saved result; its experiences are imported into ``library``
        (a new in-memory one by default)."""
        folder = Path(path)
        payload = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
        library = library or ExperienceLibrary.in_memory()
        library.import_json(folder / EXPERIENCES_FILE)
        if (folder / EXAMPLES_FILE).exists():
            saved = json.loads((folder / EXAMPLES_FILE).read_text(encoding="utf-8"))
            library.examples.put(WorkedExample(**e) for e in saved["examples"])
        return cls(
            library=library,
            config=DistillConfig(**payload["config"]),
            history=payload.get("history", []),
            teacher_solutions=payload.get("teacher_solutions", {}),
            seconds=payload.get("seconds", 0.0),
            usage=payload.get("usage", {}),
            validation=_report(payload.get("validation")),
        )


def _report(payload: dict[str, Any] | None) -> ValidationReport | None:
    if not payload:
        return None
    return ValidationReport.from_dict(payload)
