"""Accuracy of a student on a dataset, with or without an experience library."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from tqdm.auto import tqdm

from ted_graph.answers import extract_answer, grade
from ted_graph.data.loading import validate_problem
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import retrieve_examples, retrieve_experiences, student_messages
from ted_graph.models import count_prompt_tokens, count_text_tokens, generate_iter, load_chat_model
from ted_graph.models.usage import model_name
from ted_graph.stats import paired_bootstrap, wilson_interval
from ted_graph.types import Problem, RetrievedExperience

__all__ = ["evaluate", "EvalResult"]

Injection = Literal["retrieved", "all", "none"]


@dataclass
class EvalResult:
    """Accuracy with its 95% interval, cost, and the per-item predictions it came from."""

    correct: int
    total: int
    seconds: float
    predictions: list[dict[str, Any]] = field(default_factory=list)
    retrieval_seconds: float = 0.0
    """Time spent retrieving experiences (embedding + Chroma), all items together."""
    experiences: str = "none"
    model: str = ""
    tokens_estimated: bool = False
    """True when the model has no local tokenizer and tokens are estimated from length."""

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson score interval of the accuracy."""
        return wilson_interval(self.correct, self.total)

    @property
    def prompt_tokens(self) -> int:
        return sum(p["prompt_tokens"] for p in self.predictions)

    @property
    def completion_tokens(self) -> int:
        return sum(p["completion_tokens"] for p in self.predictions)

    def per_item(self) -> dict[str, float]:
        """Mean prompt and completion tokens, wall seconds and retrieval ms per item."""
        n = max(1, self.total)
        return {
            "prompt_tokens": self.prompt_tokens / n,
            "completion_tokens": self.completion_tokens / n,
            "seconds": self.seconds / n,
            "retrieval_ms": 1000 * self.retrieval_seconds / n,
        }

    def compare(self, baseline: EvalResult, *, seed: int = 0) -> tuple[float, float, float]:
        """Accuracy gain over ``baseline`` on the same items with a 95% paired bootstrap
        interval: ``(difference, low, high)``."""
        mine = {p["id"]: p["correct"] for p in self.predictions}
        theirs = {p["id"]: p["correct"] for p in baseline.predictions}
        if mine.keys() != theirs.keys():
            raise ValueError("compare() needs results on the same items")
        ids = sorted(mine)
        return paired_bootstrap([theirs[i] for i in ids], [mine[i] for i in ids], seed=seed)

    def summary(self) -> dict[str, Any]:
        """Everything but the predictions, as plain JSON-ready values."""
        low, high = self.interval
        return {
            "model": self.model,
            "experiences": self.experiences,
            "accuracy": round(self.accuracy, 4),
            "interval": [round(low, 4), round(high, 4)],
            "correct": self.correct,
            "total": self.total,
            "seconds": self.seconds,
            "retrieval_seconds": self.retrieval_seconds,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.tokens_estimated,
            "per_item": {k: round(v, 4) for k, v in self.per_item().items()},
            "with_experiences": sum(1 for p in self.predictions if p["experience_ids"]),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the summary and the predictions to one JSON file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {**self.summary(), "predictions": self.predictions}
        target.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EvalResult:
        """Reopen a result written by :meth:`save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            correct=data["correct"],
            total=data["total"],
            seconds=data["seconds"],
            predictions=data["predictions"],
            retrieval_seconds=data.get("retrieval_seconds", 0.0),
            experiences=data.get("experiences", "none"),
            model=data.get("model", ""),
            tokens_estimated=data.get("tokens_estimated", False),
        )

    def regrade(self) -> EvalResult:
        """The same predictions graded again from the problems saved with them (each by its
        task's own scorer where it names one): a saved result stays gradeable after a
        reload, and a grader fixed since grades it anew."""
        predictions = []
        for p in self.predictions:
            if "problem" not in p:
                raise ValueError(f"prediction {p['id']!r} was saved without its problem")
            predictions.append({**p, "correct": grade(p["prediction"], p["problem"])})
        return replace(
            self, correct=sum(p["correct"] for p in predictions), predictions=predictions
        )

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.accuracy:.3f} ({self.correct}/{self.total}; 95% CI {low:.3f}-{high:.3f})"


def _experiences_for(
    library: ExperienceLibrary | None,
    problem: Problem,
    mode: Injection,
    *,
    k: int,
    min_similarity: float,
    max_tokens: int,
) -> list[RetrievedExperience]:
    if library is None or mode == "none":
        return []
    if mode == "all":  # the Training-Free GRPO way: the whole library, no cut-off or budget
        size = len(library)
        return retrieve_experiences(
            library, problem, k=size, min_similarity=-1.0, max_tokens=sys.maxsize
        )
    return retrieve_experiences(
        library, problem, k=k, min_similarity=min_similarity, max_tokens=max_tokens
    )


def evaluate(
    student: BaseChatModel | str,
    dataset: Sequence[Problem],
    *,
    library: ExperienceLibrary | None = None,
    experiences: Injection = "retrieved",
    k: int = 5,
    min_similarity: float = 0.2,
    max_experience_tokens: int = 400,
    examples: int = 0,
    max_tokens: int = 320,
    batch_size: int | None = None,
    progress: bool = True,
    desc: str = "evaluating",
) -> EvalResult:
    """Greedy-decode every problem and score the extracted answers.

    Args:
        student: a chat model or a model spec.
        dataset: the problems (validated first; a bad one raises before any generation).
        library: the experience library, or ``None`` for the student alone.
        experiences: ``"retrieved"`` puts each problem's top-``k`` experiences in its
            prompt exactly as distillation and serving do; ``"all"`` puts every active
            experience in every prompt, with no similarity cut-off or token budget (the
            Training-Free GRPO way); ``"none"`` ignores the library.
        k, min_similarity, max_experience_tokens: retrieval settings.
        examples: worked examples of the most similar other problems put in each prompt
            from ``library.examples`` (:mod:`ted_graph.library.examples`); 0: none.
        max_tokens: new tokens per answer.
        batch_size: a llama.cpp student gets every prompt at once and keeps its
            ``n_parallel`` slots full; other models go ``batch_size`` problems at a time
            (default: :func:`ted_graph.models.default_batch_size`).
        progress: show a progress bar.
        desc: its label.

    Returns:
        An :class:`EvalResult`: accuracy with a 95% Wilson interval, prompt and completion
        tokens and wall time per item, and one prediction record per problem.
    """
    if experiences not in ("retrieved", "all", "none"):
        raise ValueError(f"experiences must be 'retrieved', 'all' or 'none', got {experiences!r}")
    problems = [validate_problem(p, f"dataset[{i}]") for i, p in enumerate(dataset)]
    model = load_chat_model(student)
    mode: Injection = experiences if library is not None else "none"
    started = time.time()
    used = []
    for p in problems:
        used.append(
            _experiences_for(
                library,
                p,
                mode,
                k=k,
                min_similarity=min_similarity,
                max_tokens=max_experience_tokens,
            )
        )
    shown = [retrieve_examples(library, p, k=examples) for p in problems]
    retrieval_seconds = time.time() - started
    prompts = [student_messages(p, e, x) for p, e, x in zip(problems, used, shown, strict=True)]
    rows: dict[int, dict[str, Any]] = {}
    estimated = False
    bar = tqdm(total=len(problems), desc=desc, unit="problem", disable=not progress)
    try:
        for i, texts in generate_iter(model, prompts, max_tokens=max_tokens, batch_size=batch_size):
            problem = problems[i]
            answer = extract_answer(texts[0], problem.get("choices"))
            prompt_tokens, est_p = count_prompt_tokens(model, prompts[i])
            completion_tokens, est_c = count_text_tokens(model, texts[0])
            estimated |= est_p or est_c
            rows[i] = {
                "id": problem["id"],
                "answer": problem["answer"],
                "prediction": answer,
                "correct": grade(answer, problem),
                "experience_ids": [e["id"] for e in used[i]],
                "example_ids": [x.id for x in shown[i]],
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "response": texts[0],
                "problem": {k: v for k, v in problem.items() if k != "images"},
            }
            bar.update(1)
    finally:
        bar.close()
    predictions = [rows[i] for i in sorted(rows)]
    return EvalResult(
        correct=sum(p["correct"] for p in predictions),
        total=len(predictions),
        seconds=round(time.time() - started, 2),
        predictions=predictions,
        retrieval_seconds=retrieval_seconds,
        experiences=mode,
        model=model_name(model),
        tokens_estimated=estimated,
    )
