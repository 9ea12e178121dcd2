"""Accuracy of a student on a dataset, with or without an experience library."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm.auto import tqdm

from ted_graph.answers import extract_answer, is_correct
from ted_graph.data import validate_problem
from ted_graph.library import ExperienceLibrary
from ted_graph.models import generate_iter, load_chat_model
from ted_graph.prompting import retrieve_experiences, student_messages
from ted_graph.types import Problem

__all__ = ["evaluate", "EvalResult"]


@dataclass
class EvalResult:
    """Accuracy plus the per-item predictions it came from."""

    correct: int
    total: int
    seconds: float
    predictions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.accuracy:.3f} ({self.correct}/{self.total})"


def evaluate(
    student: BaseChatModel | str,
    dataset: Sequence[Problem],
    *,
    library: ExperienceLibrary | None = None,
    k: int = 5,
    min_similarity: float = 0.2,
    max_experience_tokens: int = 400,
    max_tokens: int = 256,
    batch_size: int | None = None,
    progress: bool = True,
    desc: str = "evaluating",
) -> EvalResult:
    """Greedy-decode every problem and score the extracted answers.

    With a ``library``, each prompt carries that problem's retrieved experiences exactly as
    in distillation and serving. Generation is batched: a llama.cpp student gets every
    prompt at once and keeps its ``n_parallel`` slots full; other models go ``batch_size``
    problems at a time (default: :func:`ted_graph.models.default_batch_size`).
    """
    problems = [validate_problem(p, f"dataset[{i}]") for i, p in enumerate(dataset)]
    model = load_chat_model(student)
    started = time.time()
    used = [
        retrieve_experiences(
            library, p, k=k, min_similarity=min_similarity, max_tokens=max_experience_tokens
        )
        for p in problems
    ]
    prompts = [student_messages(p, e) for p, e in zip(problems, used, strict=True)]
    rows: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=len(problems), desc=desc, unit="problem", disable=not progress)
    try:
        for i, texts in generate_iter(model, prompts, max_tokens=max_tokens, batch_size=batch_size):
            problem = problems[i]
            answer = extract_answer(texts[0], problem.get("choices"))
            rows[i] = {
                "id": problem["id"],
                "answer": problem["answer"],
                "prediction": answer,
                "correct": is_correct(answer, problem["answer"], problem.get("choices")),
                "experience_ids": [e["id"] for e in used[i]],
                "response": texts[0],
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
    )
