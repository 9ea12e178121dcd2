"""LangGraph Server entry point for the distillation graph.

Settings come from the environment, so the server needs no code:

* ``TED_STUDENT`` / ``TED_TEACHER``: model specs (default: the embedded pair);
* ``TED_LIBRARY``: directory of the persistent library (default ``ted-library``), or
  ``TED_CHROMA_HOST`` / ``TED_CHROMA_PORT`` for a Chroma server.

Nothing is loaded at import: the server calls :func:`make_graph` when it builds the graph.
Run settings are passed per run as the ``context`` (``DistillConfig`` fields).
"""

from __future__ import annotations

import os

from langgraph.graph.state import CompiledStateGraph

from ted_graph import ExperienceLibrary, create_distillation_graph, load_chat_model
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER


def make_graph() -> CompiledStateGraph:
    """Compile the distillation graph from environment settings (no custom checkpointer:
    LangGraph Server provides persistence)."""
    host = os.environ.get("TED_CHROMA_HOST")
    if host:
        library = ExperienceLibrary.connect(host, int(os.environ.get("TED_CHROMA_PORT", "8000")))
    else:
        library = ExperienceLibrary(os.environ.get("TED_LIBRARY", "ted-library"))
    student = load_chat_model(os.environ.get("TED_STUDENT", DEFAULT_STUDENT))
    teacher = load_chat_model(os.environ.get("TED_TEACHER", DEFAULT_TEACHER))
    return create_distillation_graph(student, teacher, library).compile()
