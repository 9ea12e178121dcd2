"""Models and a library named by environment variables, for servers that take no code.

LangGraph Server builds graphs from ``graphs/*.py:make_graph`` with no arguments; these
read their settings from the environment (``langgraph.json``'s ``env`` or the shell) and
load each model and library once per process.

* ``TED_STUDENT`` / ``TED_TEACHER``: model specs (see :func:`ted_graph.load_chat_model`);
* ``TED_LIBRARY``: directory of a persistent library (default ``ted-library``), or
  ``TED_CHROMA_HOST`` / ``TED_CHROMA_PORT`` for a Chroma server;
* ``TED_COLLECTION``: the Chroma collection (default ``ted_experiences``);
* ``TED_EMBEDDER``: the sentence-transformers embedder (default ``all-MiniLM-L6-v2``);
* ``TED_IMAGE_RETRIEVAL``: ``auto``, ``text``, ``image`` or ``caption`` (see
  :mod:`ted_graph.library.retrieval`), with ``TED_CAPTIONER`` the captioning model's spec
  (default: ``TED_STUDENT``).
"""

from __future__ import annotations

import functools
import os

from langchain_core.language_models import BaseChatModel

from ted_graph.library.embeddings import DEFAULT_EMBEDDER
from ted_graph.library.library import DEFAULT_COLLECTION, ExperienceLibrary
from ted_graph.library.retrieval import ImageRetrieval
from ted_graph.models import load_chat_model

__all__ = ["model_from_env", "library_from_env"]


@functools.cache
def _model(spec: str) -> BaseChatModel:
    return load_chat_model(spec)


@functools.cache
def _library(
    path: str,
    host: str | None,
    port: int,
    collection: str,
    embedder: str,
    mode: str,
    captioner: str | None,
) -> ExperienceLibrary:
    images = ImageRetrieval(
        mode,  # type: ignore[arg-type]
        captioner=_model(captioner) if mode == "caption" and captioner else None,
    )
    kwargs = {"collection": collection, "embedder": embedder, "images": images}
    if host:
        return ExperienceLibrary.connect(host, port, **kwargs)
    return ExperienceLibrary(path, **kwargs)


def model_from_env(variable: str, default: str) -> BaseChatModel:
    """The model named by ``$variable`` (or ``default``), loaded once per process."""
    return _model(os.environ.get(variable) or default)


def library_from_env() -> ExperienceLibrary:
    """The library named by the ``TED_*`` variables above, opened once."""
    return _library(
        os.environ.get("TED_LIBRARY", "ted-library"),
        os.environ.get("TED_CHROMA_HOST") or None,
        int(os.environ.get("TED_CHROMA_PORT", "8000")),
        os.environ.get("TED_COLLECTION", DEFAULT_COLLECTION),
        os.environ.get("TED_EMBEDDER", DEFAULT_EMBEDDER),
        os.environ.get("TED_IMAGE_RETRIEVAL", "auto"),
        os.environ.get("TED_CAPTIONER") or os.environ.get("TED_STUDENT") or None,
    )
