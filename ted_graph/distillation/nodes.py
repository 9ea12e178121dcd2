"""The per-problem nodes of the distillation graph.

``retrieve -> student_sample -> teacher_solve -> compare -> finish``, run once per problem
of a batch (fanned out with ``Send``). ``teacher_solve`` and ``compare`` are skipped when
every rollout was right (``skip_solved``), and ``teacher_solve`` when the teacher's
solution to the problem is cached from an earlier epoch.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from ted_graph.answers import extract_answer, grade
from ted_graph.config import DistillConfig
from ted_graph.distillation.induction import reaches_answer
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import (
    problem_message,
    problem_text,
    retrieve_examples,
    retrieve_experiences,
    student_messages,
)
from ted_graph.models.generation import generate
from ted_graph.models.grammar import operations_grammar
from ted_graph.prompts import render
from ted_graph.types import Problem, ProblemResult, RetrievedExperience, Rollout

__all__ = [
    "teacher_asker_many",
    "writer_asker_many",
    "ProblemState",
    "ProblemOutput",
    "build_problem_graph",
    "parse_critique",
    "representative_rollouts",
    "teacher_asker",
]

_LABEL_LINE = re.compile(r"^\s*\**\s*(helpful|misleading)\s+advice\s*\**\s*:(.*)$", re.I | re.M)

logger = logging.getLogger(__name__)


class ProblemOutput(TypedDict, total=False):
    """What a problem's run hands back to the batch (merged by the parent's reducers)."""

    results: list[ProblemResult]
    teacher_solutions: dict[str, str]


class ProblemState(ProblemOutput, total=False):
    problem: Problem
    step: int
    previous_accuracy: float | None
    teacher_solution: str | None
    experiences: list[RetrievedExperience]
    examples: list[dict[str, Any]]
    rollouts: list[Rollout]
    critique: str | None
    critique_fallback: bool
    helpful_ids: list[str]
    misleading_ids: list[str]


def teacher_asker_many(
    teacher: BaseChatModel, cfg: DistillConfig, *, grammar: str | None = None
) -> Callable[[list[list[BaseMessage]]], list[str]]:
    """A function that sends several requests to the teacher (greedy) at once, decoded
    under ``grammar`` where the teacher is a llama.cpp model."""

    def ask_many(requests: list[list[BaseMessage]]) -> list[str]:
        outputs = generate(
            teacher,
            requests,
            max_tokens=cfg.teacher_max_tokens,
            batch_size=cfg.generation_batch_size,
            repetition_penalty=cfg.teacher_repetition_penalty,
            grammar=grammar,
        )
        return [o[0] for o in outputs]

    return ask_many


def writer_asker_many(
    teacher: BaseChatModel, cfg: DistillConfig
) -> Callable[[list[list[BaseMessage]]], list[str]]:
    """:func:`teacher_asker_many` for experience writing: constrained to the operations
    grammar (:func:`ted_graph.models.grammar.operations_grammar`) when
    ``cfg.constrained_writing``."""
    grammar = (
        operations_grammar(cfg.max_operations, cfg.max_words) if cfg.constrained_writing else None
    )
    return teacher_asker_many(teacher, cfg, grammar=grammar)


def teacher_asker(teacher: BaseChatModel, cfg: DistillConfig) -> Callable[[list[BaseMessage]], str]:
    """A function that sends one request to the teacher (greedy) and returns its text."""
    ask_many = teacher_asker_many(teacher, cfg)
    return lambda messages: ask_many([messages])[0]


def parse_critique(
    text: str, experiences: list[RetrievedExperience]
) -> tuple[str, list[str], list[str]]:
    """Split a critique into its prose and the ``E<n>`` labels it marks helpful/misleading.

    Returns:
        ``(critique without the label lines, helpful ids, misleading ids)``.
    """
    helpful: list[str] = []
    misleading: list[str] = []
    for kind, labels in _LABEL_LINE.findall(text):
        ids = [
            experiences[int(n) - 1]["id"]
            for n in re.findall(r"E\s*(\d+)", labels, flags=re.I)
            if 1 <= int(n) <= len(experiences)
        ]
        (helpful if kind.lower() == "helpful" else misleading).extend(ids)
    prose = _LABEL_LINE.sub("", text).strip()
    misleading = list(dict.fromkeys(misleading))
    helpful = [i for i in dict.fromkeys(helpful) if i not in misleading]
    return prose, helpful, misleading


def representative_rollouts(rollouts: list[Rollout], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` of a problem's rollouts for the teacher to compare (all if ``limit``
    is 0), each with its ``number`` (1-based position among all of them), in their order.

    A right rollout is shown when there is one, beside the wrong ones, so the teacher sees
    what separates them (Training-Free GRPO's group contrast); among wrong rollouts, those
    with an answer not shown yet come first, so each shown one is a different mistake.

    Example:
        >>> rs = [{"text": "..", "answer": a, "correct": a == "3"} for a in "5536"]
        >>> [(r["number"], r["answer"]) for r in representative_rollouts(rs, 2)]
        [(1, '5'), (3, '3')]
    """
    indexed = list(enumerate(rollouts, 1))
    if limit <= 0 or len(indexed) <= limit:
        return [{**r, "number": i} for i, r in indexed]
    right = [i for i, r in indexed if r["correct"]]
    fresh, repeated, seen = [], [], set()
    for i, r in indexed:
        if not r["correct"]:
            (repeated if r["answer"] in seen else fresh).append(i)
            seen.add(r["answer"])
    chosen = [*right[:1], *fresh, *repeated, *right[1:]][:limit]
    return [{**rollouts[i - 1], "number": i} for i in sorted(chosen)]


def _sampling_seed(cfg: DistillConfig, problem_id: str, step: int) -> int:
    return (cfg.seed * 1_000_003 + zlib.crc32(f"{problem_id}:{step}".encode())) % (2**31)


def build_problem_graph(
    student: BaseChatModel,
    teacher: BaseChatModel,
    library: ExperienceLibrary,
    defaults: DistillConfig,
) -> StateGraph:
    """The per-problem subgraph (uncompiled)."""

    def cfg_of(runtime: Runtime[DistillConfig]) -> DistillConfig:
        return runtime.context or defaults

    def retrieve(state: ProblemState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        exps = retrieve_experiences(
            library,
            state["problem"],
            k=cfg.k,
            min_similarity=cfg.min_similarity,
            max_tokens=cfg.max_experience_tokens,
        )
        shown = retrieve_examples(library, state["problem"], k=cfg.examples)
        return {"experiences": exps, "examples": [x.to_dict() for x in shown]}

    def student_sample(state: ProblemState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        problem = state["problem"]
        texts = generate(
            student,
            [student_messages(problem, state.get("experiences", []), state.get("examples", []))],
            n=cfg.n,
            temperature=cfg.temperature,
            max_tokens=cfg.student_max_tokens,
            seed=_sampling_seed(cfg, problem["id"], state.get("step", 0)),
            batch_size=cfg.generation_batch_size,
        )[0]
        choices = problem.get("choices")
        rollouts: list[Rollout] = []
        for text in texts:
            answer = extract_answer(text, choices)
            rollouts.append(
                {
                    "text": text,
                    "answer": answer,
                    "correct": grade(answer, problem),
                }
            )
        return {"rollouts": rollouts}

    def after_sampling(state: ProblemState, runtime: Runtime[DistillConfig]) -> str:
        cfg = cfg_of(runtime)
        if cfg.skip_solved and all(r["correct"] for r in state["rollouts"]):
            return "finish"
        return "compare" if state.get("teacher_solution") else "teacher_solve"

    def teacher_solve(state: ProblemState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        ask = teacher_asker(teacher, cfg)
        problem = state["problem"]
        text = problem_text(problem)
        solution: str | None = ask(
            [problem_message(render("teacher_solve", problem=text), problem)]
        )
        if cfg.rationalize and not reaches_answer(solution, problem):
            # a wrong solution is never shown as the method: shown the answer, the teacher
            # writes the steps that reach it, kept only if they do
            prompt = render("teacher_rationalize", problem=text, answer=problem["answer"])
            solution = ask([problem_message(prompt, problem)])
            if not reaches_answer(solution, problem):
                logger.info("problem %s: the teacher reached no right solution", problem["id"])
                solution = None
        return {"teacher_solution": solution}  # finish() hands it to the batch's cache

    def compare(state: ProblemState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        cfg = cfg_of(runtime)
        ask = teacher_asker(teacher, cfg)
        problem = state["problem"]
        experiences = state.get("experiences", [])
        prompt = render(
            "compare",
            problem=problem_text(problem),
            answer=" or ".join([problem["answer"], *problem.get("accepted", [])]),
            teacher_solution=state.get("teacher_solution") or "(none)",
            rollouts=representative_rollouts(state["rollouts"], cfg.compare_rollouts),
            total_rollouts=len(state["rollouts"]),
            experiences=experiences,
        )
        critique, helpful, misleading = parse_critique(
            ask([problem_message(prompt, problem)]), experiences
        )
        fallback = not critique
        if fallback:  # weak teachers sometimes answer with the label lines alone
            logger.info(
                "problem %s: the teacher's comparison had no critique; writing from its "
                "solution and the answer instead (prompts/fallback_critique.jinja)",
                problem["id"],
            )
            critique = render(
                "fallback_critique",
                answer=problem["answer"],
                teacher_solution=state.get("teacher_solution") or "",
            )
        return {
            "critique": critique,
            "critique_fallback": fallback,
            "helpful_ids": helpful,
            "misleading_ids": misleading,
        }

    def finish(state: ProblemState, runtime: Runtime[DistillConfig]) -> dict[str, Any]:
        problem = state["problem"]
        rollouts = state["rollouts"]
        accuracy = sum(r["correct"] for r in rollouts) / len(rollouts)
        result: ProblemResult = {
            "problem_id": problem["id"],
            "step": state.get("step", 0),
            "experience_ids": [e["id"] for e in state.get("experiences", [])],
            "rollouts": rollouts,
            "accuracy": accuracy,
            "previous_accuracy": state.get("previous_accuracy"),
            "teacher_solution": state.get("teacher_solution"),
            "critique": state.get("critique"),
            "critique_fallback": bool(state.get("critique_fallback")),
            "helpful_ids": state.get("helpful_ids", []),
            "misleading_ids": state.get("misleading_ids", []),
        }
        runtime.stream_writer(
            {
                "type": "problem",
                "step": result["step"],
                "problem_id": problem["id"],
                "accuracy": accuracy,
                "critiqued": result["critique"] is not None,
            }
        )
        out: dict[str, Any] = {"results": [result]}
        if state.get("teacher_solution"):
            out["teacher_solutions"] = {problem["id"]: state["teacher_solution"]}
        return out

    graph = StateGraph(ProblemState, context_schema=DistillConfig, output_schema=ProblemOutput)
    graph.add_node("retrieve", retrieve)
    graph.add_node("student_sample", student_sample)
    graph.add_node("teacher_solve", teacher_solve)
    graph.add_node("compare", compare)
    graph.add_node("finish", finish)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "student_sample")
    graph.add_conditional_edges(
        "student_sample", after_sampling, ["teacher_solve", "compare", "finish"]
    )
    graph.add_edge("teacher_solve", "compare")
    graph.add_edge("compare", "finish")
    graph.add_edge("finish", END)
    return graph
