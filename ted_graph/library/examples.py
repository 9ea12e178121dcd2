"""Worked examples: the second kind of experience (ExpeL keeps both insights and
successful trajectories).

A worked example is a training problem with the teacher's correct solution, written in the
student's own answer format (numbered steps, then "Answer: ..."). Where a lesson says what
to do, an example shows it done on a similar problem. Examples live in a sibling Chroma
collection of the library (``<collection>_examples``, on the same client, so a directory,
a Chroma server and a LangGraph store all hold them); the document embedded is the
problem, so a search finds the solved problems most similar to a new one.

Only solutions whose answer matches the ground truth are kept; the final answer line is
ours, so it is exempt from the answer-key rule of :func:`ted_graph.library.safety.unsafe_reason`,
but the reasoning above it passes every other check.

Example:
    >>> from ted_graph import ExperienceLibrary
    >>> lib = ExperienceLibrary.in_memory()
    >>> problem = {"id": "q1", "question": "I have two cats and a dog. How many animals?",
    ...            "answer": "3"}
    >>> ex = lib.examples.add(problem, "1. Cats: 2.\\n2. Dog: 1.\\n3. 2 + 1 = 3.\\nAnswer: 3")
    >>> [e.source_id for e, _ in lib.examples.search("How many pets do I have?", k=1)]
    ['q1']
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ted_graph.answers import extract_answer, grade
from ted_graph.library.prompting import problem_text, retrieval_query
from ted_graph.library.safety import unsafe_reason
from ted_graph.types import Problem

__all__ = ["WorkedExample", "WorkedExamples", "worked_solution"]

# "Answer: ...", also written as the last numbered step ("4. Answer: 2 fruits")
_ANSWER_LINE = re.compile(r"(?im)^[ \t]*(?:\d+[.)][ \t]*)?(answer[ \t]*:.*)$")


@dataclass(frozen=True)
class WorkedExample:
    """A solved training problem: the problem as the student sees it, and its solution."""

    id: str
    source_id: str
    problem: str
    solution: str
    created_step: int = 0
    query: str = ""
    """The text embedded to find it: the problem's question and options."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def worked_solution(text: str, problem: Problem) -> str | None:
    """``text`` as a worked example in the student's format, or ``None``.

    The solution is cut at its first answer line ("Answer: ...", also as a numbered step);
    one that ends another way ("the correct answer is \\boxed{C}") keeps its reasoning and
    gets the answer line the student is asked to write ("Answer: C"). ``None`` when the
    answer is wrong or missing, when there is no reasoning to show, or when the reasoning
    fails :func:`ted_graph.library.safety.unsafe_reason` (answer keys aside: an example states its
    own problem's answer).
    """
    choices = problem.get("choices")
    match = _ANSWER_LINE.search(text)
    if match is not None:
        reasoning = text[: match.start()].strip()
        answer_line = match.group(1).strip()
    else:
        reasoning = text.strip()
        answer = extract_answer(reasoning, choices)
        if answer is None:
            return None
        letters = [chr(ord("A") + i) for i, c in enumerate(choices or []) if c == answer]
        answer_line = f"Answer: {letters[0] if letters else answer}"
    solution = f"{reasoning}\n{answer_line}"
    if not reasoning:
        return None
    if not grade(extract_answer(solution, choices), problem):
        return None
    if unsafe_reason(reasoning, answer_keys=False):
        return None
    return solution


class WorkedExamples:
    """The worked examples of one library (see the module docstring).

    Args:
        collection: a Chroma(-compatible) collection created with the library's embedding
            function in cosine space.
    """

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.collection.count())

    def add(self, problem: Problem, solution: str, *, step: int = 0) -> WorkedExample:
        """Store ``solution`` (already checked with :func:`worked_solution`) for
        ``problem``; a problem has one example, so a later one replaces it."""
        text = solution.strip()
        if not text:
            raise ValueError("a worked example needs a solution")
        pid = str(problem["id"])
        example = WorkedExample(
            id="ex-" + hashlib.sha256(pid.encode("utf-8")).hexdigest()[:12],
            source_id=pid,
            problem=problem_text(problem),
            solution=text,
            created_step=step,
            query=retrieval_query(problem),
        )
        self.put([example])
        return example

    def put(self, examples: Iterable[WorkedExample]) -> int:
        """Store examples as they are (from :meth:`all` of another library, or a saved
        result); returns how many."""
        rows = list(examples)
        if not rows:
            return 0
        with self._lock:
            self.collection.upsert(
                ids=[e.id for e in rows],
                documents=[e.query or e.problem for e in rows],
                metadatas=[
                    {
                        "source_id": e.source_id,
                        "problem": e.problem,
                        "solution": e.solution,
                        "created_step": e.created_step,
                    }
                    for e in rows
                ],
            )
        return len(rows)

    def search(
        self,
        query: str,
        *,
        k: int = 1,
        min_similarity: float = 0.0,
        exclude: Iterable[str] = (),
    ) -> list[tuple[WorkedExample, float]]:
        """The ``k`` examples whose problems are most similar to ``query``, best first,
        leaving out those whose source problem is in ``exclude`` (the problem itself)."""
        skip = set(exclude)
        total = len(self)
        if k <= 0 or total == 0:
            return []
        res = self.collection.query(
            query_texts=[query],
            n_results=min(total, k + len(skip)),
            include=["metadatas", "distances"],
        )
        out = []
        for id_, meta, dist in zip(
            res["ids"][0], res["metadatas"][0], res["distances"][0], strict=True
        ):
            score = 1.0 - float(dist)
            if meta["source_id"] in skip or score < min_similarity:
                continue
            out.append((_example(id_, meta), score))
        return out[:k]

    def all(self) -> list[WorkedExample]:
        res = self.collection.get(include=["metadatas", "documents"])
        examples = [
            _example(i, m, d)
            for i, m, d in zip(res["ids"], res["metadatas"], res["documents"], strict=True)
        ]
        return sorted(examples, key=lambda e: (e.created_step, e.source_id))

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def keep_only(self, ids: Iterable[str]) -> int:
        """Remove every example whose id is not in ``ids`` (examples are only ever added
        during a run, so this puts the examples back as they were when ``ids`` was
        taken); returns how many were removed."""
        extra = sorted(self.ids() - set(ids))
        if extra:
            self.collection.delete(ids=extra)
        return len(extra)

    def clear(self) -> None:
        self.keep_only(())


def _example(id_: str, meta: dict[str, Any], document: str | None = None) -> WorkedExample:
    return WorkedExample(
        id=id_,
        source_id=str(meta["source_id"]),
        problem=str(meta["problem"]),
        solution=str(meta["solution"]),
        created_step=int(meta.get("created_step", 0)),
        query=document or "",
    )
