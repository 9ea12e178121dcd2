"""LangGraph Server entry point for the distillation graph.

Settings come from the environment (see :mod:`ted_graph.serving.environment`): ``TED_STUDENT``,
``TED_TEACHER`` (default: the embedded pair), ``TED_LIBRARY`` or ``TED_CHROMA_HOST`` /
``TED_CHROMA_PORT``. Nothing is loaded at import: the server calls :func:`make_graph`
when it builds the graph. Run settings are passed per run as the ``context``
(``DistillConfig`` fields); the input is ``{"trainset": [problems]}``.
"""

from __future__ import annotations

import asyncio

from langgraph.graph.state import CompiledStateGraph

from ted_graph import create_distillation_graph
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER
from ted_graph.serving.environment import library_from_env, model_from_env


async def make_graph() -> CompiledStateGraph:
    """The graph, built in a worker thread: loading models and opening the library block,
    and the server calls this on its event loop."""
    return await asyncio.to_thread(build_graph)


def build_graph() -> CompiledStateGraph:
    """Compile the distillation graph from environment settings (no custom checkpointer:
    LangGraph Server provides persistence)."""
    return create_distillation_graph(
        model_from_env("TED_STUDENT", DEFAULT_STUDENT),
        model_from_env("TED_TEACHER", DEFAULT_TEACHER),
        library_from_env(),
    ).compile()
