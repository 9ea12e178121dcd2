"""Which :class:`~ted_graph.models.base.GenerationBackend` runs a model: the one place that
looks at a model's type.

Backends are tried in order; the first whose ``matches`` accepts the model runs it:
llama.cpp (:class:`~ted_graph.models.llamacpp.ChatLlamaCppBatched`), in-process
transformers (``ChatHuggingFace`` over a pipeline), in-process vision models, and last any
other LangChain chat model (remote endpoints included). :func:`register_backend` puts a
user's backend first.
"""

from __future__ import annotations

import threading

from langchain_core.language_models import BaseChatModel

from ted_graph.models.base import GenerationBackend
from ted_graph.models.chat import ChatModelBackend
from ted_graph.models.llamacpp import LlamaCppBackend
from ted_graph.models.local_generation import TransformersBackend
from ted_graph.models.vision import VisionBackend

__all__ = ["backend_for", "register_backend"]

_BACKENDS: list[GenerationBackend] = [
    LlamaCppBackend(),
    TransformersBackend(),
    VisionBackend(),
    ChatModelBackend(),
]
_GUARD = threading.Lock()


def backend_for(model: BaseChatModel) -> GenerationBackend:
    """The backend that runs ``model``.

    Example:
        >>> from langchain_core.language_models import GenericFakeChatModel
        >>> backend_for(GenericFakeChatModel(messages=iter([]))).name
        'chat-model'
    """
    with _GUARD:
        backends = list(_BACKENDS)
    for backend in backends:
        if backend.matches(model):
            return backend
    raise TypeError(
        f"no generation backend runs {type(model).__name__}; pass a LangChain chat model"
    )


def register_backend(backend: GenerationBackend) -> None:
    """Run the models that ``backend.matches`` with ``backend``, ahead of the built-in ones."""
    if not isinstance(backend, GenerationBackend):
        raise TypeError("register_backend takes a GenerationBackend instance")
    with _GUARD:
        _BACKENDS.insert(0, backend)
