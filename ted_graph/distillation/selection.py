"""Do no harm: score the library on held-out validation problems and keep its best version.

With ``DistillConfig.validation = m``, :func:`ted_graph.distill` holds ``m`` of the
training problems out of training. Before the first step it scores the student on them
alone and with the library as it is; after every step, with the library as the step left
it (greedy, batched: :func:`ted_graph.evaluate`). When the run ends, the library is put
back to the version that scored best, the earliest among equals, so a version that
only ties an earlier one does not replace it, and a library that never beat what the run
started from is returned as it started. ACE keeps its best-validation playbook the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ted_graph.library.library import ExperienceLibrary

__all__ = ["ValidationReport", "BestVersion"]


@dataclass
class ValidationReport:
    """Validation accuracies of a run: the student alone, every library version, the kept one."""

    problems: int
    without: float  # the student alone
    scores: list[tuple[int, float]] = field(default_factory=list)  # (step, accuracy); -1: start
    kept_step: int = -1

    @property
    def kept(self) -> float:
        return dict(self.scores)[self.kept_step]

    @property
    def helped(self) -> bool:
        """Whether the kept library beats the student alone on the validation problems."""
        return self.kept > self.without

    def summary(self) -> str:
        where = "as the run found it" if self.kept_step < 0 else f"after step {self.kept_step}"
        line = (
            f"validation ({self.problems} held-out problems): student alone "
            f"{self.without:.3f}, with the library kept ({where}) {self.kept:.3f}"
        )
        if not self.helped:
            line += "; the library did not help on validation"
        return line

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> ValidationReport:
        """The report :meth:`to_dict` wrote (JSON turns its pairs into lists)."""
        return cls(
            problems=payload["problems"],
            without=payload["without"],
            scores=[(int(s), float(a)) for s, a in payload["scores"]],
            kept_step=payload["kept_step"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": self.problems,
            "without": self.without,
            "scores": [list(s) for s in self.scores],
            "kept_step": self.kept_step,
        }


class BestVersion:
    """Tracks the best-scoring version of a library during a run.

    Args:
        library: the library being written.
        score: validation accuracy of the student with a library (``None``: alone).
        problems: how many validation problems ``score`` uses (for the report).
        path: a JSON file that keeps the scores and the best version after every change,
            for :meth:`start` with ``resume=True`` to go on from (``None``: kept in memory).

    Example:
        >>> lib = ExperienceLibrary.in_memory()
        >>> best = BestVersion(lib, lambda library: 0.5 if library and len(library) else 0.25, 4)
        >>> _ = best.start()
        >>> _ = lib.add("When counting, list each item with its quantity first.")
        >>> best.after_step(0)
        0.5
        >>> best.finish().kept_step
        0
    """

    def __init__(
        self,
        library: ExperienceLibrary,
        score: Callable[[ExperienceLibrary | None], float],
        problems: int,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.library = library
        self.score = score
        self.problems = problems
        self.path = Path(path) if path is not None else None
        self.report: ValidationReport | None = None
        self._best: tuple[float, list[dict[str, Any]], set[str]] | None = None
        self._resumed = False

    def start(self, *, resume: bool = False) -> ValidationReport:
        """Score the student alone and with the library as it is now; with ``resume`` and a
        ``path`` written by an earlier start, go on from what it holds instead."""
        if resume and self.path is not None and self.path.exists():
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            self.report = ValidationReport.from_dict(saved["report"])
            best = saved["best"]
            self._best = (best["accuracy"], best["snapshot"], set(best["examples"]))
            self._resumed = True
            return self.report
        without = self.score(None)
        self.report = ValidationReport(self.problems, without)
        empty = len(self.library) == 0 and len(self.library.examples) == 0
        self._consider(-1, without if empty else self.score(self.library))
        return self.report

    def after_step(self, step: int) -> float:
        """Score the library as step ``step`` left it; returns the accuracy."""
        accuracy = self.score(self.library)
        self._consider(step, accuracy)
        return accuracy

    def catch_up(self, finished_steps: int) -> float | None:
        """After a resume from ``path``: score the last finished step if the run was killed
        between its end and its score (the library is then as that step left it, since the
        next step's writes wait for the score). Returns the accuracy, or ``None``."""
        if not self._resumed or self.report is None or finished_steps < 1:
            return None
        last = finished_steps - 1
        if self.report.scores[-1][0] >= last:
            return None
        return self.after_step(last)

    def finish(self) -> ValidationReport:
        """Put the library back to its best version (if it is not that already)."""
        if self.report is None or self._best is None:
            raise RuntimeError("BestVersion.finish() before start()")
        if self.report.kept_step != self.report.scores[-1][0]:
            self.library.restore(self._best[1])
            self.library.examples.keep_only(self._best[2])
        return self.report

    def _consider(self, step: int, accuracy: float) -> None:
        assert self.report is not None
        self.report.scores.append((step, accuracy))
        if self._best is None or accuracy > self._best[0]:
            self._best = (accuracy, self.library.snapshot(), self.library.examples.ids())
            self.report.kept_step = step
        self._save()

    def _save(self) -> None:
        if self.path is None or self.report is None or self._best is None:
            return
        accuracy, snapshot, examples = self._best
        payload = {
            "report": self.report.to_dict(),
            "best": {"accuracy": accuracy, "snapshot": snapshot, "examples": sorted(examples)},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(payload, default=str), encoding="utf-8")
        os.replace(partial, self.path)  # a kill mid-write leaves the previous file whole
