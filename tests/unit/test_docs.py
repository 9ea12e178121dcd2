"""The examples in docstrings run, so the documentation cannot rot."""

import doctest
import importlib

import pytest

MODULES = [
    "ted_graph.answers",
    "ted_graph.experience",
    "ted_graph.library",
    "ted_graph.data",
    "ted_graph.graph",
    "ted_graph.models",
    "ted_graph.models.usage",
    "ted_graph.models.remote",
    "ted_graph.agent",
    "ted_graph.feedback",
    "ted_graph.serving",
    "ted_graph.middleware",
    "ted_graph.datasets.shapes",
    "ted_graph.images",
    "ted_graph.retrieval",
    "ted_graph.safety",
    "ted_graph.examples",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0
