"""Data: problems from JSONL files, the bundled BIG-bench tasks, easy-VQA, reasoning-gym
and images.

* :mod:`~ted_graph.data.problems`: what a valid problem row is (:func:`validate_problem`).
* :mod:`~ted_graph.data.loading`: :func:`load_dataset` and the loaders behind its specs.
* :mod:`~ted_graph.data.shapes`, :mod:`~ted_graph.data.easy_vqa`: the image datasets.
* :mod:`~ted_graph.data.images`: image references in data, content blocks in prompts.
* ``bigbench/``: the five bundled BIG-bench tasks (JSON files).

May import: :mod:`ted_graph.types`, :mod:`ted_graph.cache` and the other shared modules at
the package's top; nothing else of ted-graph (models, the library and everything above it
build on data, not the reverse).
"""

from ted_graph.data.loading import (
    BIGBENCH_TASKS,
    TASKS,
    disjoint,
    load_bigbench,
    load_dataset,
    load_jsonl,
    split,
)
from ted_graph.data.problems import DatasetError, validate_problem

__all__ = [
    "DatasetError",
    "load_dataset",
    "load_jsonl",
    "load_bigbench",
    "validate_problem",
    "split",
    "disjoint",
    "BIGBENCH_TASKS",
    "TASKS",
]
