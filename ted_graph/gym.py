"""reasoning-gym: seeded task generators as datasets, graded by each task's own scorer.

A spec names a task, the items to draw and the task's own config fields::

    reasoning-gym:time_intervals?size=300&seed=1001&max_time_difference_seconds=3600

``size`` (default 100) and ``seed`` (default 0) choose the items; every other key is a
field of the task's config dataclass, converted to that field's type (``int``, ``float``,
``bool`` as true/false/1/0, ``str``, ``date``/``time`` in ISO form, lists as comma-separated
values). An unknown task or key raises :class:`GymError` naming the valid ones, before any
item is drawn.

Item ``i`` of a task with a given config and seed is the same whatever ``size`` is (the
generators seed each item with ``seed + i``), and its id is
``rg-<task>[-<config digest>]-s<seed>-<i>``: a rerun draws the same problems with the same
ids, and pools drawn with different seeds never share an id. Different seeds can still
generate the same question on a task with few possible items; :func:`ted_graph.data.disjoint`
drops those from a test pool.

A problem carries ``metadata["grader"] = "reasoning-gym"`` and, under
``metadata["reasoning_gym"]``, the task, the config as written, the seed, the index and
the task's entry (its JSON form): :func:`score` draws the entry again and calls the task's
own ``score_answer``, so a problem, or a saved result that holds one, is graded the same
way before and after a reload. reasoning-gym is an optional extra: ``pip install
'ted-graph[gym]'``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from ted_graph.types import Problem

__all__ = ["GymError", "PREFIX", "GRADER", "parse_spec", "problems", "score", "task_names"]

PREFIX = "reasoning-gym:"
GRADER = "reasoning-gym"
DEFAULT_SIZE = 100
DEFAULT_SEED = 0
_INSTALL = "reasoning-gym is not installed: pip install 'ted-graph[gym]'"


class GymError(ValueError):
    """A reasoning-gym spec names an unknown task or config field, or a bad value."""


def _module() -> Any:
    try:
        import reasoning_gym
    except ImportError as exc:
        raise GymError(_INSTALL) from exc
    return reasoning_gym


def task_names() -> list[str]:
    """Every task reasoning-gym registers, sorted."""
    _module()  # importing the package registers its tasks
    from reasoning_gym.factory import DATASETS

    return sorted(DATASETS)


def _config_class(task: str) -> type:
    _module()
    from reasoning_gym.factory import DATASETS

    if task not in DATASETS:
        raise GymError(f"unknown reasoning-gym task {task!r}; tasks: {', '.join(sorted(DATASETS))}")
    return DATASETS[task][1]


def _convert(value: str, kind: Any, where: str) -> Any:
    """``value`` (text from a spec) as an instance of the annotated type ``kind``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value.lower() in ("none", "null") and len(options) < len(typing.get_args(kind)):
            return None
        errors = []
        for option in options:
            try:
                return _convert(value, option, where)
            except GymError as exc:
                errors.append(str(exc))
        raise GymError(errors[0] if errors else f"{where}: cannot read {value!r}")
    if origin in (list, tuple) or kind in (list, tuple):
        args = typing.get_args(kind)
        item = args[0] if args else str
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(parts) != len(args):
                raise GymError(f"{where}: expected {len(args)} comma-separated values")
            return tuple(_convert(p, a, where) for p, a in zip(parts, args, strict=True))
        converted = [_convert(p, item, where) for p in parts]
        return tuple(converted) if origin is tuple or kind is tuple else converted
    try:
        if kind is bool:
            lowered = value.lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if kind in (int, float, str):
            return kind(value)
        if kind is datetime.date:
            return datetime.date.fromisoformat(value)
        if kind is datetime.time:
            return datetime.time.fromisoformat(value)
        if kind is datetime.datetime:
            return datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        name = getattr(kind, "__name__", str(kind))
        raise GymError(f"{where}: {value!r} is not a valid {name}") from exc
    if kind is Any:
        return value
    raise GymError(f"{where}: fields of type {kind} cannot be set from a spec")


def parse_spec(text: str) -> tuple[str, dict[str, str], int, int]:
    """``(task, config as written, size, seed)`` of a spec; checks task and keys.

    >>> parse_spec("reasoning-gym:chain_sum?size=5&seed=3&min_terms=2")[1:]
    ({'min_terms': '2'}, 5, 3)
    """
    body = text.removeprefix(PREFIX)
    task, _, query = body.partition("?")
    task = task.strip()
    if not task:
        raise GymError(f"{text}: name a task, e.g. {PREFIX}time_intervals?size=100&seed=0")
    cls = _config_class(task)
    fields = {f.name for f in dataclasses.fields(cls)} - {"seed", "size"}
    raw: dict[str, str] = {}
    size, seed = DEFAULT_SIZE, DEFAULT_SEED
    seen: set[str] = set()
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise GymError(f"{text}: write the config as key=value pairs joined by '&'") from exc
    for key, value in pairs:
        if key in seen:
            raise GymError(f"{text}: key {key!r} is given twice")
        seen.add(key)
        if key in ("size", "seed"):
            try:
                number = int(value)
            except ValueError as exc:
                raise GymError(f"{text}: {key} must be an integer, got {value!r}") from exc
            if number < (1 if key == "size" else 0):
                raise GymError(f"{text}: {key} must be {'positive' if key == 'size' else '>= 0'}")
            size, seed = (number, seed) if key == "size" else (size, number)
            continue
        if key not in fields:
            raise GymError(
                f"{text}: {key!r} is not a config field of {task}; "
                f"fields: size, seed, {', '.join(sorted(fields))}"
            )
        raw[key] = value
    _typed_config(task, tuple(sorted(raw.items())))  # fail on a bad value before anything runs
    return task, raw, size, seed


@lru_cache(maxsize=64)
def _typed_config(task: str, raw: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    cls = _config_class(task)
    hints = typing.get_type_hints(cls)
    return {k: _convert(v, hints.get(k, Any), f"{task}.{k}") for k, v in raw}


@lru_cache(maxsize=64)
def _dataset(task: str, raw: tuple[tuple[str, str], ...], seed: int, size: int) -> Any:
    reasoning_gym = _module()
    try:
        return reasoning_gym.create_dataset(task, seed=seed, size=size, **_typed_config(task, raw))
    except (AssertionError, TypeError, ValueError) as exc:
        raise GymError(f"{task}: the config is not valid ({exc or type(exc).__name__})") from exc


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


#: The answer of a task whose scorer accepts many answers (a colouring, a plan): the task
#: leaves its answer empty and checks a prediction by simulation.
OPEN_ANSWER = "(any answer the task's scorer accepts)"


@lru_cache(maxsize=4096)
def _entry(task: str, raw: tuple[tuple[str, str], ...], seed: int, index: int) -> Any:
    return _dataset(task, raw, seed, index + 1)[index]


def problems(text: str, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The problem rows a spec draws (not yet validated: the data loader does that)."""
    task, raw, size, seed = parse_spec(text)
    count = size if limit is None else min(size, limit)
    key = tuple(sorted(raw.items()))
    dataset = _dataset(task, key, seed, size)
    digest = "-" + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:6] if raw else ""
    rows = []
    for i in range(count):
        entry = dataset[i]
        answer = entry.get("answer")
        rows.append(
            {
                "id": f"rg-{task}{digest}-s{seed}-{i}",
                "question": entry["question"],
                "answer": OPEN_ANSWER if answer is None or answer == "" else str(answer),
                "metadata": {
                    "source": f"reasoning-gym/{task}",
                    "grader": GRADER,
                    "reasoning_gym": {
                        "task": task,
                        "config": raw,
                        "seed": seed,
                        "index": i,
                        "entry": _json_safe(entry),
                    },
                },
            }
        )
    return rows


def score(prediction: str | None, problem: Problem | Mapping[str, Any]) -> float:
    """The task's own ``score_answer`` of ``prediction`` (0.0 to 1.0; 1.0 is right).

    The entry is drawn again from (task, config, seed, index), so the scorer sees it exactly
    as the generator made it (some tasks keep tuples that JSON would turn into lists).
    """
    info = (problem.get("metadata") or {}).get("reasoning_gym")
    if not isinstance(info, Mapping) or not {"task", "seed", "index"} <= info.keys():
        raise GymError(f"problem {problem.get('id')!r} carries no reasoning-gym entry")
    raw = tuple(sorted((info.get("config") or {}).items()))
    entry = _entry(info["task"], raw, int(info["seed"]), int(info["index"]))
    try:
        return float(
            _dataset(info["task"], raw, int(info["seed"]), 1).score_answer(prediction, entry)
        )
    except Exception:  # a scorer that cannot read an answer scores it as wrong
        return 0.0
