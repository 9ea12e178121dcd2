"""The examples in docstrings run, so the documentation cannot rot."""

import doctest
import importlib

import pytest

MODULES = [
    "ted_graph.answers",
    "ted_graph.library.experience",
    "ted_graph.library.library",
    "ted_graph.data.loading",
    "ted_graph.distillation.graph",
    "ted_graph.models",
    "ted_graph.models.base",
    "ted_graph.models.backends",
    "ted_graph.models.usage",
    "ted_graph.models.remote",
    "ted_graph.serving.nodes",
    "ted_graph.serving.feedback",
    "ted_graph.serving.graph",
    "ted_graph.serving.middleware",
    "ted_graph.data.shapes",
    "ted_graph.data.images",
    "ted_graph.library.retrieval",
    "ted_graph.library.safety",
    "ted_graph.library.examples",
    "ted_graph.models.generation",
    "ted_graph.gym",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0
