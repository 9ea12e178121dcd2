"""Retrieval-augmented serving: the student answers with the experiences it retrieves.

``create_serving_graph`` returns an uncompiled ``StateGraph``:

``START -> retrieve -> answer -> [learn] -> END`` for a new ``question``, and
``START -> learn -> END`` when a thread that already holds an answer receives
``feedback`` (how LangGraph Server threads use it: one run asks, a later run grades).

Example:
    >>> from langchain_core.language_models import GenericFakeChatModel
    >>> lib = ExperienceLibrary.in_memory()
    >>> _ = lib.add("When counting objects, list each item with its quantity first.")
    >>> student = GenericFakeChatModel(messages=iter(["2 + 3 = 5.\\nAnswer: 5"]))
    >>> graph = create_serving_graph(student, lib, min_similarity=0.0).compile()
    >>> out = graph.invoke({"question": "2 apples and 3 pears: how many fruits?",
    ...                     "feedback": {"answer": "5"}})
    >>> out["answer"], len(out["experiences"]), out["feedback_report"]["correct"]
    ('5', 1, True)
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from tqdm.auto import tqdm
from typing_extensions import TypedDict

from ted_graph.answers import extract_answer
from ted_graph.config import DistillConfig
from ted_graph.data.loading import DatasetError, load_dataset, validate_problem
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import retrieve_examples, retrieve_experiences, student_messages
from ted_graph.models.generation import generate
from ted_graph.serving.feedback import Feedback, learn_from_feedback, validate_feedback
from ted_graph.types import Problem, RetrievedExperience

__all__ = ["ServingState", "create_serving_graph", "serve_batch", "read_questions"]


class ServingState(TypedDict, total=False):
    """Input: ``question`` (with optional ``choices``, ``images`` and ``id``) and/or
    ``feedback``."""

    id: str
    question: str
    choices: list[str]
    images: list[Any]  # references as in a Problem (paths, data URLs, base64, bytes)
    experiences: list[RetrievedExperience]
    examples: list[dict[str, Any]]  # worked examples shown (ted_graph.library.examples)
    response: str  # the student's full answer
    answer: str | None  # the final answer extracted from it
    answered: str  # the question ``response`` answers
    feedback: Feedback | None
    feedback_report: dict[str, Any]


def _problem(state: ServingState) -> Problem:
    question = state.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("serving needs a non-empty 'question'")
    digest = hashlib.sha256(question.encode("utf-8")).hexdigest()[:10]
    problem: Problem = {"id": state.get("id") or f"q-{digest}", "question": question, "answer": ""}
    if state.get("choices"):
        problem["choices"] = list(state["choices"])
    if state.get("images"):
        problem["images"] = list(state["images"])
    return problem


def create_serving_graph(
    student: BaseChatModel,
    library: ExperienceLibrary,
    *,
    teacher: BaseChatModel | None = None,
    k: int = 5,
    min_similarity: float = 0.2,
    max_tokens: int = 400,
    examples: int = 0,
    max_new_tokens: int = 256,
    config: DistillConfig | None = None,
) -> StateGraph:
    """Build the serving graph (uncompiled).

    Args:
        student: the chat model that answers.
        library: the experiences it reads; feedback updates their statistics.
        teacher: optional; with it, feedback on a wrong answer writes new experiences.
        k, min_similarity, max_tokens: retrieval settings, as in distillation.
        examples: worked examples of similar problems in each prompt
            (``DistillConfig.examples``, :mod:`ted_graph.library.examples`).
        max_new_tokens: the longest answer.
        config: writing settings for online learning.

    A thread that is asked the question it already answered returns the stored answer
    (resending a request does not generate twice); feedback is applied once and cleared.
    """

    def route(state: ServingState) -> str:
        if state.get("question") and state.get("answered") != state["question"]:
            return "retrieve"
        return "learn" if state.get("feedback") else END

    def retrieve(state: ServingState) -> dict[str, Any]:
        problem = _problem(state)
        if state.get("feedback"):
            validate_feedback(state["feedback"])  # fail before generating, not after
        found = retrieve_experiences(
            library, problem, k=k, min_similarity=min_similarity, max_tokens=max_tokens
        )
        shown = retrieve_examples(library, problem, k=examples)
        return {"experiences": found, "examples": [x.to_dict() for x in shown]}

    def answer(state: ServingState) -> dict[str, Any]:
        problem = _problem(state)
        prompt = student_messages(
            problem, state.get("experiences") or [], state.get("examples") or []
        )
        text = generate(student, [prompt], n=1, max_tokens=max_new_tokens)[0][0]
        return {
            "response": text,
            "answer": extract_answer(text, problem.get("choices")),
            "answered": problem["question"],
            "feedback_report": {},
        }

    def after_answer(state: ServingState) -> str:
        return "learn" if state.get("feedback") else END

    def learn(state: ServingState) -> dict[str, Any]:
        if not state.get("response"):
            raise ValueError("feedback needs an answered question on this thread")
        report = learn_from_feedback(
            library,
            question=_problem(state),
            response=state["response"],
            experiences=state.get("experiences") or [],
            feedback=state["feedback"] or {},
            teacher=teacher,
            config=config,
        )
        return {"feedback": None, "feedback_report": report.to_dict()}

    graph = StateGraph(ServingState)
    graph.add_node("retrieve", retrieve)
    graph.add_node("answer", answer)
    graph.add_node("learn", learn)
    graph.add_conditional_edges(START, route, ["retrieve", "learn", END])
    graph.add_edge("retrieve", "answer")
    graph.add_conditional_edges("answer", after_answer, ["learn", END])
    graph.add_edge("learn", END)
    return graph


def read_questions(source: str, *, limit: int | None = None) -> list[Problem]:
    """Questions to serve: a dataset (answers optional) or ``-`` for standard input, where
    each line is a JSON object or a plain-text question.

    Raises:
        DatasetError: naming the line and field of a bad row.
    """
    if source != "-":
        return load_dataset(source, limit=limit, require_answer=False)
    problems: list[Problem] = []
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        text = line.strip()
        row: Any = {"question": text}
        if text.startswith("{"):
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"<stdin>:{lineno}: not valid JSON ({exc.msg})") from exc
        problems.append(validate_problem(row, f"<stdin>:{lineno}", require_answer=False))
        if limit is not None and len(problems) >= limit:
            break
    if not problems:
        raise DatasetError("<stdin>: no questions")
    return problems


def serve_batch(
    graph: CompiledStateGraph,
    problems: Sequence[Problem],
    *,
    learn: bool = False,
    max_concurrency: int = 8,
    progress: bool = True,
) -> Iterator[dict[str, Any]]:
    """Answer ``problems`` with a compiled serving graph; yields one row per problem, in
    order, as soon as it and those before it are done.

    With ``learn=True`` a problem's ground-truth ``answer`` is sent as feedback, so the
    library's statistics (and, with a teacher, its experiences) learn from the batch.
    Concurrent requests share the model's generation batches.
    """
    inputs: list[dict[str, Any]] = []
    for p in problems:
        item: dict[str, Any] = {"id": p["id"], "question": p["question"]}
        if p.get("choices"):
            item["choices"] = p["choices"]
        if p.get("images"):
            item["images"] = p["images"]
        if learn and p.get("answer"):
            item["feedback"] = {"answer": p["answer"]}
        inputs.append(item)
    done: dict[int, dict[str, Any]] = {}
    following = 0
    with tqdm(total=len(inputs), desc="serving", unit="question", disable=not progress) as bar:
        for index, out in graph.batch_as_completed(
            inputs, config={"max_concurrency": max_concurrency}
        ):
            bar.update(1)
            problem = problems[index]
            row: dict[str, Any] = {
                "id": problem["id"],
                "question": problem["question"],
                "answer": out.get("answer"),
                "response": out.get("response"),
                "experiences": [e["id"] for e in out.get("experiences") or []],
            }
            report = out.get("feedback_report") or {}
            if report:
                row["correct"] = report.get("correct")
            done[index] = row
            while following in done:
                yield done.pop(following)
                following += 1


def write_rows(rows: Iterator[dict[str, Any]], target: Path | None) -> list[dict[str, Any]]:
    """Write rows as JSONL to ``target`` (stdout when ``None``); returns them."""
    seen = []
    fh = target.open("w", encoding="utf-8") if target else sys.stdout
    try:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            seen.append(row)
    finally:
        if target:
            fh.close()
    return seen
