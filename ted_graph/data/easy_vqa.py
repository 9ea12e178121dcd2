"""easy-VQA: real images of one coloured shape, with questions about them.

The ``easy-vqa`` package (MIT, 3 MB; ``pip install easy-vqa==1.0`` or the ``vqa`` extra)
carries 5,000 64x64 PNGs (a circle, rectangle or triangle in one of eight colours on a
plain background) and 48,248 questions with one-word answers: yes/no ("is there a blue
shape?"), the colour, or the shape. Its files are read through ``importlib.metadata``; its
code is never imported.

Each question becomes a multiple-choice problem whose options are the answers of its kind
(yes/no, the eight colours, or the three shapes), shuffled with a seed derived from the
item's id. Item ids are ``easy-vqa-<split>-<n>`` (``n``: the package's order); problems
come round-robin over the images, so the first hundred show a hundred different images.
"""

from __future__ import annotations

import importlib.metadata
import json
import random
from pathlib import Path
from typing import Any

from ted_graph.data.problems import validate_problem
from ted_graph.types import Problem

__all__ = ["load_easy_vqa", "EASY_VQA_SPLITS", "EasyVQAMissing"]

EASY_VQA_SPLITS = ("train", "test")
_DIST = "easy-vqa"
_YES_NO = ("yes", "no")
_SHAPES = ("circle", "rectangle", "triangle")


class EasyVQAMissing(LookupError):
    """The ``easy-vqa`` package (its data) is not installed."""


def _data_dir() -> Path:
    try:
        dist = importlib.metadata.distribution(_DIST)
    except importlib.metadata.PackageNotFoundError as exc:
        raise EasyVQAMissing(
            "easy-VQA needs its data package: pip install easy-vqa==1.0 "
            "(or pip install 'ted-graph[vqa]')"
        ) from exc
    return Path(str(dist.locate_file("easy_vqa/data")))


def _options(answer: str, colours: tuple[str, ...]) -> tuple[str, ...]:
    if answer in _YES_NO:
        return _YES_NO
    return _SHAPES if answer in _SHAPES else colours


def load_easy_vqa(split: str = "train", *, limit: int | None = None) -> list[Problem]:
    """The first ``limit`` easy-VQA problems of ``split`` (every image decoded once).

    Raises:
        EasyVQAMissing: the package is not installed.
        ValueError: an unknown split.
    """
    if split not in EASY_VQA_SPLITS:
        raise ValueError(f"easy-VQA has the splits {', '.join(EASY_VQA_SPLITS)}, not {split!r}")
    data = _data_dir()
    answers = (data / "answers.txt").read_text(encoding="utf-8").split()
    colours = tuple(a for a in answers if a not in _YES_NO + _SHAPES)
    questions = json.loads((data / split / "questions.json").read_text(encoding="utf-8"))
    rows: list[Problem] = []
    for n, (question, answer, image_id) in _spread(questions)[:limit]:
        id_ = f"easy-vqa-{split}-{n}"
        choices = list(_options(answer, colours))
        random.Random(id_).shuffle(choices)
        row = {
            "id": id_,
            "question": question[:1].upper() + question[1:],
            "answer": answer,
            "choices": choices,
            "images": [str(data / split / "images" / f"{image_id}.png")],
            "metadata": {"source": f"easy-vqa/{split}", "image_id": image_id},
        }
        rows.append(validate_problem(row, f"easy-vqa:{split}[{n}]"))
    return rows


def _spread(questions: list[list[Any]]) -> list[tuple[int, list[Any]]]:
    """``(index, question)`` pairs reordered round-robin over images, so that the first
    ``limit`` problems show as many different images as they can."""
    by_image: dict[Any, list[tuple[int, list[Any]]]] = {}
    for n, q in enumerate(questions):
        by_image.setdefault(q[2], []).append((n, q))
    groups = list(by_image.values())
    depth = max((len(g) for g in groups), default=0)
    return [g[i] for i in range(depth) for g in groups if i < len(g)]
