"""Datasets: JSONL problem files and the bundled BIG-bench tasks.

A JSONL file holds one problem per line::

    {"id": "q1", "question": "...", "answer": "...", "choices": ["...", "..."], "images": []}

``id`` is optional (a stable one is derived from the content), ``answer`` may be a number,
``choices`` makes the problem multiple choice (``answer`` is then an option's text or its
letter). Every error names the file, the line and the field.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ted_graph import gym
from ted_graph.data.problems import DatasetError, validate_problem
from ted_graph.types import Problem

__all__ = [
    "load_dataset",
    "load_jsonl",
    "load_bigbench",
    "split",
    "disjoint",
    "BIGBENCH_TASKS",
    "TASKS",
]

BIGBENCH_TASKS = (
    "logical_deduction",
    "date_understanding",
    "object_counting",
    "tracking_shuffled_objects",
    "geometric_shapes",
)
#: Tasks whose problems carry rendered images (``<task>_rendered``): the SVG in the question
#: is drawn into a PNG under the cache directory and the question refers to the image.
RENDERED_TASKS = ("geometric_shapes_rendered",)
#: Every name :func:`load_dataset` knows besides files (easy-VQA needs its data package).
TASKS = (
    *(f"bigbench:{t}" for t in (*BIGBENCH_TASKS, *RENDERED_TASKS)),
    "easy-vqa:train",
    "easy-vqa:test",
    "reasoning-gym:<task>?size=<N>&seed=<S>&<config field>=<value>",
)


OnBadRow = Callable[[DatasetError], None]


def load_jsonl(
    path: str | Path,
    *,
    limit: int | None = None,
    require_answer: bool = True,
    on_bad_row: OnBadRow | None = None,
) -> list[Problem]:
    """Read and validate a JSONL problem file (blank lines are skipped).

    A bad row raises :class:`DatasetError` naming the file, line and field, unless
    ``on_bad_row`` is given: it is then called with that error and the row is skipped.
    """
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{source}: cannot read the file ({exc})") from exc
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                raise DatasetError(f"{where}: not valid JSON ({msg})") from exc
            problem = validate_problem(row, where, require_answer=require_answer)
            if problem["id"] in seen:
                raise DatasetError(
                    f"{where}: field 'id' {problem['id']!r} repeats line {seen[problem['id']]}"
                )
        except DatasetError as exc:
            if on_bad_row is None:
                raise
            on_bad_row(exc)
            continue
        seen[problem["id"]] = lineno
        problems.append(problem)
        if limit is not None and len(problems) >= limit:
            break
    if not problems:
        raise DatasetError(f"{source}: no problems in the file")
    return problems


def load_bigbench(
    task: str | Path, *, limit: int | None = None, on_bad_row: OnBadRow | None = None
) -> list[Problem]:
    """Load a BIG-bench ``task.json``: a bundled task name or a path to such a file.

    Multiple-choice options are shuffled with a seed derived from each item's id, because
    some tasks list the right option first (date_understanding does in 364 of 369 items).
    """
    path = Path(task)
    if path.suffix == ".json" and path.exists():
        name, text = path.stem if path.stem != "task" else path.parent.name, None
    else:
        name = str(task).removeprefix("bigbench:")
        if name not in BIGBENCH_TASKS:
            raise DatasetError(
                f"unknown BIG-bench task {name!r}; bundled: {', '.join(BIGBENCH_TASKS)}"
            )
        text = (resources.files("ted_graph.data") / "bigbench" / f"{name}.json").read_text(
            encoding="utf-8"
        )
    try:
        data = json.loads(text if text is not None else path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{task}: cannot read a BIG-bench task file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise DatasetError(f"{task}: a BIG-bench task file needs an 'examples' list")
    prefix = data.get("task_prefix") or ""
    problems: list[Problem] = []
    for i, ex in enumerate(data["examples"]):
        where = f"{task}: examples[{i}]"
        try:
            problems.append(
                validate_problem(_bigbench_row(ex, f"{name}-{i}", prefix, where), where)
            )
        except DatasetError as exc:
            if on_bad_row is None:
                raise
            on_bad_row(exc)
            continue
        if limit is not None and len(problems) >= limit:
            break
    return problems


def _bigbench_row(ex: Any, id_: str, prefix: str, where: str) -> dict[str, Any]:
    if not isinstance(ex, dict) or "input" not in ex:
        raise DatasetError(f"{where}: field 'input' is missing")
    row: dict[str, Any] = {"id": id_, "question": prefix + str(ex["input"])}
    if "target_scores" in ex:
        scores = ex["target_scores"]
        if (
            not isinstance(scores, dict)
            or len(scores) < 2
            or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) for s in scores.values()
            )
        ):
            raise DatasetError(f"{where}: field 'target_scores' must map 2+ options to numbers")
        choices = list(scores)
        right = [c for c, s in scores.items() if s == max(scores.values())]
        random.Random(id_).shuffle(choices)
        row.update(choices=choices, answer=right[0])
        if len(right) > 1:  # e.g. geometric_shapes: a circle is also an ellipse
            row["accepted"] = right[1:]
    elif "target" in ex:
        targets = ex["target"] if isinstance(ex["target"], list) else [ex["target"]]
        if not targets:
            raise DatasetError(f"{where}: field 'target' is empty")
        digits = [t for t in targets if str(t).strip().lstrip("-").isdigit()]
        row["answer"] = (digits or targets)[0]
    else:
        raise DatasetError(f"{where}: needs 'target_scores' or 'target'")
    row["metadata"] = {"source": f"bigbench/{id_.rsplit('-', 1)[0]}"}
    return row


def load_dataset(
    source: str | Path,
    *,
    limit: int | None = None,
    require_answer: bool = True,
    on_bad_row: OnBadRow | None = None,
) -> list[Problem]:
    """Load problems from a ``.jsonl`` file, a BIG-bench ``.json`` file or a bundled task.

    Bundled tasks are named ``bigbench:<task>`` (or just ``<task>``), see
    :data:`BIGBENCH_TASKS`, plus the rendered ``bigbench:geometric_shapes_rendered`` and
    ``easy-vqa:train`` / ``easy-vqa:test`` (real images; see :data:`TASKS`).
    ``reasoning-gym:<task>?size=<N>&seed=<S>&<config field>=<value>`` draws items from a
    reasoning-gym generator, graded by the task's own scorer (:mod:`ted_graph.gym`; needs
    ``pip install 'ted-graph[gym]'``).
    ``require_answer=False`` lets JSONL rows leave out ``answer`` (questions to serve).
    ``on_bad_row`` (JSONL and BIG-bench files) receives each bad row's error instead of
    raising, and the row is skipped; by default the first bad row stops the load.

    Example:
        >>> len(load_dataset("bigbench:object_counting", limit=3))
        3
    """
    text = str(source)
    if text.startswith(gym.PREFIX):
        try:
            rows = gym.problems(text, limit=limit)
        except gym.GymError as exc:
            raise DatasetError(str(exc)) from exc
        return [validate_problem(row, f"{text}[{i}]") for i, row in enumerate(rows)]
    path = Path(text).expanduser()
    if path.suffix == ".jsonl" or (path.exists() and path.suffix != ".json"):
        return load_jsonl(path, limit=limit, require_answer=require_answer, on_bad_row=on_bad_row)
    if text.removeprefix("bigbench:") in RENDERED_TASKS:
        from ted_graph.cache import cache_dir
        from ted_graph.data.shapes import PathError, rendered_problems

        name = text.removeprefix("bigbench:").removesuffix("_rendered")
        try:
            return rendered_problems(
                load_bigbench(name, limit=limit), cache_dir() / "images" / name
            )
        except PathError as exc:
            raise DatasetError(str(exc)) from exc
    if path.suffix == ".json" or text.removeprefix("bigbench:") in BIGBENCH_TASKS:
        return load_bigbench(
            path if path.suffix == ".json" else text, limit=limit, on_bad_row=on_bad_row
        )
    if text == "easy-vqa" or text.startswith("easy-vqa:"):
        from ted_graph.data.easy_vqa import EasyVQAMissing, load_easy_vqa

        try:
            return load_easy_vqa(text.partition(":")[2] or "train", limit=limit)
        except (EasyVQAMissing, ValueError) as exc:
            raise DatasetError(f"{text}: {exc}") from exc
    if not path.exists():
        raise DatasetError(f"{text}: no such file, and not a bundled task ({', '.join(TASKS)})")
    raise DatasetError(f"{text}: unsupported dataset format (use .jsonl)")


def split(
    problems: Sequence[Problem],
    *,
    train: int,
    test: int | None = None,
    seed: int = 0,
    fixed_test: bool = False,
) -> tuple[list[Problem], list[Problem]]:
    """A seeded, disjoint train/test split: ``train`` items, then ``test`` (or the rest).

    With ``fixed_test`` the test items are the *last* ``test`` of the shuffled order, so
    the test split stays the same whatever ``train`` is (benchmarks compare runs with
    different training sizes on one test set).
    """
    if train < 0 or (test is not None and test < 0):
        raise ValueError("split sizes must be non-negative")
    if train + (test or 0) > len(problems):
        raise ValueError(
            f"asked for {train} train + {test or 0} test items but the dataset has {len(problems)}"
        )
    order = list(problems)
    random.Random(seed).shuffle(order)
    rest = order[train:]
    if test is None:
        return order[:train], rest
    if fixed_test:
        return order[:train], order[len(order) - test :] if test else []
    return order[:train], rest[:test]


def disjoint(pool: Sequence[Problem], *others: Sequence[Problem]) -> list[Problem]:
    """``pool`` without the problems whose id or question appears in ``others``.

    Pools drawn from one generator with different seeds have different ids, but a task
    with few possible items can generate the same question twice: a test pool passed
    through this shares nothing with the training and validation pools.
    """
    ids = {p["id"] for other in others for p in other}
    questions = {p["question"] for other in others for p in other}
    return [p for p in pool if p["id"] not in ids and p["question"] not in questions]
