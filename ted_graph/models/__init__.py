"""Student and teacher models: any LangChain chat model, or a spec for a local one."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from ted_graph.models.generation import generate, message_text
from ted_graph.models.local import load_local_chat_model
from ted_graph.models.registry import PACKAGED, cache_dir, resolve_weights

__all__ = [
    "load_chat_model",
    "generate",
    "message_text",
    "load_local_chat_model",
    "resolve_weights",
    "cache_dir",
    "PACKAGED",
    "DEFAULT_STUDENT",
    "DEFAULT_TEACHER",
]

#: The embedded default pair: both run offline from pip-installed weights.
DEFAULT_STUDENT = "smollm2-135m"
DEFAULT_TEACHER = "qwen2.5-coder-0.5b"


def load_chat_model(spec: str | BaseChatModel, **kwargs: Any) -> BaseChatModel:
    """A chat model from a spec; a ``BaseChatModel`` is returned unchanged.

    Specs (local, in-process through transformers):

    * ``smollm2-135m``, ``qwen2.5-coder-0.5b``, ``qwen2.5-coder-1.5b``: weights that pip
      packages carry (see ``requirements/embedded-weights.txt``), converted once and cached;
    * ``hf:<hub id or path>``, a local folder or ``.gguf`` file, or a hub id
      ``org/name``.

    Keyword arguments go to :func:`load_local_chat_model` (``device``, ``dtype``,
    ``max_new_tokens``).

    Example:
        >>> from langchain_core.language_models import GenericFakeChatModel
        >>> fake = GenericFakeChatModel(messages=iter(["hi"]))
        >>> load_chat_model(fake) is fake
        True
    """
    if isinstance(spec, BaseChatModel):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a model spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    if spec.startswith("hf:"):
        spec = spec[3:]
    elif ":" in spec.split("/")[0]:
        provider = spec.split(":", 1)[0]
        raise ValueError(
            f"model spec {spec!r}: provider {provider!r} is not a local spec. Pass a LangChain "
            "chat model object instead (e.g. ChatOpenAI(base_url=...) for vLLM or llama.cpp)."
        )
    return load_local_chat_model(spec, **kwargs)
