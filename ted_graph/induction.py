"""The step's group comparison: lessons induced from several wrong problems side by side.

A comparison of one problem shows the teacher one answer; a rule that tells answers apart
(a closed path is a polygon, not a line) shows only across problems. Once per step the
teacher sees up to ``DistillConfig.group_critique`` of the step's problems the student got
wrong, each with its correct answer and the student's most frequent answer
(prompts/group_critique.jinja), and states the rules that decide them. Its answer joins the
step's critiques: the writer turns it into lessons, and verification tries them on the
first problem of the group and its neighbours, as any other lesson.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from langchain_core.messages import BaseMessage, HumanMessage

from ted_graph.config import DistillConfig
from ted_graph.prompting import problem_text
from ted_graph.prompts import render
from ted_graph.types import Problem, ProblemResult

logger = logging.getLogger(__name__)

AskMany = Callable[[list[list[BaseMessage]]], list[str]]


def most_frequent_wrong(result: ProblemResult) -> str | None:
    """The student's most frequent wrong answer to a problem (ties: the first given).

    >>> most_frequent_wrong({"rollouts": [
    ...     {"text": "", "answer": "5", "correct": True},
    ...     {"text": "", "answer": "7", "correct": False},
    ...     {"text": "", "answer": None, "correct": False},
    ...     {"text": "", "answer": "7", "correct": False}]})
    '7'
    """
    wrong = Counter(r["answer"] for r in result["rollouts"] if not r["correct"] and r["answer"])
    return wrong.most_common(1)[0][0] if wrong else None


def group_critique(
    results: Sequence[ProblemResult],
    problems: Mapping[str, Problem],
    ask_many: AskMany,
    cfg: DistillConfig,
) -> tuple[str, Problem] | None:
    """The teacher's rules from the step's wrong problems, and the problem they are tried on.

    Problems with images are left out (the group prompt is text), as are problems whose
    rollouts gave no wrong answer to show. Fewer than two left, or ``cfg.group_critique``
    0: ``None``, and nothing is asked.
    """
    if cfg.group_critique < 2:
        return None
    group = []
    for r in results:
        problem = problems[r["problem_id"]]
        wrong = most_frequent_wrong(r)
        if wrong is None or problem.get("images"):
            continue
        group.append((problem, wrong))
        if len(group) == cfg.group_critique:
            break
    if len(group) < 2:
        return None
    prompt = render(
        "group_critique",
        problems=[
            {"text": problem_text(p), "answer": p["answer"], "wrong": wrong} for p, wrong in group
        ],
        rules=cfg.max_operations,
    )
    critique = ask_many([[HumanMessage(content=prompt)]])[0].strip()
    if not critique:
        logger.info("the group comparison of %d problems came back empty", len(group))
        return None
    logger.info("group comparison of %d problems: %s", len(group), critique[:300])
    return critique, group[0][0]
