"""LangGraph Server entry point for the serving graph.

Settings come from the environment (see :mod:`ted_graph.serving.environment`):

* ``TED_STUDENT``: the student's model spec (default: the embedded student);
* ``TED_TEACHER``: optional; with it, feedback on wrong answers writes experiences;
* ``TED_LIBRARY``, or ``TED_CHROMA_HOST`` / ``TED_CHROMA_PORT``: the library.

A run with ``{"question": ...}`` answers; a later run on the same thread with
``{"feedback": {"answer": ...}}`` (or ``score`` / ``correction``) grades that answer.
"""

from __future__ import annotations

import asyncio
import os

from langgraph.graph.state import CompiledStateGraph

from ted_graph import create_serving_graph
from ted_graph.models import DEFAULT_STUDENT
from ted_graph.serving.environment import library_from_env, model_from_env


async def make_graph() -> CompiledStateGraph:
    """The graph, built in a worker thread: loading models and opening the library block,
    and the server calls this on its event loop."""
    return await asyncio.to_thread(build_graph)


def build_graph() -> CompiledStateGraph:
    """Compile the serving graph from environment settings (no custom checkpointer:
    LangGraph Server provides persistence)."""
    teacher = os.environ.get("TED_TEACHER")
    return create_serving_graph(
        model_from_env("TED_STUDENT", DEFAULT_STUDENT),
        library_from_env(),
        teacher=model_from_env("TED_TEACHER", teacher) if teacher else None,
    ).compile()
