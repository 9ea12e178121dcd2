"""The LangGraph Server entry point builds the distillation graph from the environment."""

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def test_make_graph_from_environment(tmp_path, monkeypatch):
    from graphs.distillation import make_graph

    monkeypatch.setenv("TED_LIBRARY", str(tmp_path / "lib"))
    monkeypatch.setenv("TED_STUDENT", "smollm2-135m")
    monkeypatch.setenv("TED_TEACHER", "qwen2.5-coder-0.5b")
    graph = make_graph()
    assert {"next_batch", "solve_problem", "write_experiences", "compress"} <= set(
        graph.get_graph().nodes
    )
    assert (tmp_path / "lib").is_dir()  # the persistent library was opened there
