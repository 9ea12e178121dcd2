"""Prompt assembly shared by distillation, evaluation and serving."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from ted_graph.data.images import image_blocks
from ted_graph.prompts import render
from ted_graph.types import Problem, RetrievedExperience

if TYPE_CHECKING:  # the library imports this module (its worked examples render problems)
    from ted_graph.library.examples import WorkedExample
    from ted_graph.library.library import ExperienceLibrary

__all__ = [
    "problem_text",
    "problem_message",
    "student_messages",
    "retrieve_experiences",
    "retrieve_examples",
    "estimate_tokens",
    "retrieval_query",
    "within_budget",
]


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: four characters a token, rounded up."""
    return (len(text) + 3) // 4


def problem_text(problem: Problem) -> str:
    """The problem statement with lettered options, as both student and teacher see it."""
    return render(
        "problem",
        question=problem["question"],
        choices=problem.get("choices") or [],
        letters=string.ascii_uppercase,
    )


def problem_message(text: str, problem: Problem) -> HumanMessage:
    """A human message with ``text`` and the problem's images as standard content blocks
    (plain text when the problem has none)."""
    blocks = image_blocks(problem.get("images"))
    if not blocks:
        return HumanMessage(content=text)
    return HumanMessage(content=[{"type": "text", "text": text}, *blocks])


def retrieval_query(problem: Problem) -> str:
    """The text embedded to find experiences for a problem (question and options)."""
    choices = problem.get("choices") or []
    return problem["question"] + ("\n" + "\n".join(choices) if choices else "")


def retrieve_experiences(
    library: ExperienceLibrary | None,
    problem: Problem,
    *,
    k: int,
    min_similarity: float,
    max_tokens: int,
) -> list[RetrievedExperience]:
    """Top-``k`` experiences for ``problem``, above the similarity cut-off, within budget.

    Experiences are taken best first until the next one would overflow ``max_tokens``.
    The problem's images take part as the library's ``image_retrieval`` says.
    """
    if library is None or k <= 0:
        return []
    hits = library.search(
        retrieval_query(problem),
        k=k,
        min_similarity=min_similarity,
        images=problem.get("images") or None,
    )
    entries: list[RetrievedExperience] = [
        {"id": exp.id, "text": exp.text, "score": round(score, 4)} for exp, score in hits
    ]
    return within_budget(entries, max_tokens)


def within_budget(
    entries: Sequence[RetrievedExperience], max_tokens: int
) -> list[RetrievedExperience]:
    """``entries`` (best first) taken until the next one would overflow ``max_tokens``.

    >>> within_budget([{"id": "a", "text": "x" * 40, "score": 0.9},
    ...                {"id": "b", "text": "y" * 40, "score": 0.8}], max_tokens=20)
    [{'id': 'a', 'text': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'score': 0.9}]
    """
    chosen: list[RetrievedExperience] = []
    used = 0
    for entry in entries:
        cost = estimate_tokens(entry["text"]) + 2
        if used + cost > max_tokens:
            break
        used += cost
        chosen.append(entry)
    return chosen


def retrieve_examples(
    library: ExperienceLibrary | None,
    problem: Problem,
    *,
    k: int,
    min_similarity: float = 0.0,
) -> list[WorkedExample]:
    """The ``k`` worked examples of the most similar *other* problems (never the problem's
    own: a training problem must not see its solution)."""
    if library is None or k <= 0:
        return []
    hits = library.examples.search(
        retrieval_query(problem), k=k, min_similarity=min_similarity, exclude=[problem["id"]]
    )
    return [example for example, _ in hits]


def student_messages(
    problem: Problem,
    experiences: Sequence[RetrievedExperience] = (),
    examples: Sequence[WorkedExample | Mapping[str, Any]] = (),
) -> list[BaseMessage]:
    """The student's prompt: a system block with the worked examples (records, or their
    ``to_dict()`` as graph state keeps them) and experiences, then the problem and, after
    it, the answer line to end with (prompts/student_turn.jinja: after the question, so a
    task's own "answer with a single word" does not make the student skip both the
    reasoning and the line)."""
    system = render("student_system", experiences=list(experiences), examples=list(examples))
    turn = render("student_turn", problem=problem_text(problem))
    return [SystemMessage(content=system), problem_message(turn, problem)]
