"""Any other LangChain chat model: remote endpoints and every provider's client.

:class:`ChatModelBackend` is the fallback :class:`~ted_graph.models.base.GenerationBackend`
and the one that OpenAI-compatible servers (vLLM, llama.cpp's server, TGI; see
:mod:`ted_graph.models.remote`) run on. A model whose class declares a native ``n`` field
(``ChatOpenAI``) gets one request per prompt returning ``n`` choices; any other gets ``n``
concurrent ``invoke`` calls. Sampling settings reach a model only through the fields it
declares (``temperature``, ``max_tokens``, ``seed``); other models keep their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables.config import ContextThreadPoolExecutor

from ted_graph.models.base import (
    GenerationBackend,
    GenerationRequest,
    Prompts,
    message_text,
)

__all__ = ["ChatModelBackend"]


class ChatModelBackend(GenerationBackend):
    """Any LangChain chat model, through its own ``invoke`` and ``generate``."""

    name = "chat-model"

    def matches(self, model: BaseChatModel) -> bool:
        # chat models, and runnables wrapping one (``model.bind(...)``, ``with_retry()``)
        return isinstance(model, BaseChatModel) or callable(getattr(model, "invoke", None))

    def generate(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> list[list[str]]:
        settings = {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        }
        kwargs = _call_settings(model, settings)
        if request.stop:
            kwargs["stop"] = list(request.stop)
        return _generate(
            model, prompts, n=request.n, workers=request.max_concurrency, kwargs=kwargs
        )


def _supports_native_n(model: BaseChatModel) -> bool:
    return "n" in getattr(type(model), "model_fields", {})


def _call_settings(model: BaseChatModel, settings: dict[str, Any]) -> dict[str, Any]:
    """The sampling settings a model declares fields for (ChatOpenAI: temperature,
    max_tokens, seed); other models keep their own configuration."""
    fields = getattr(type(model), "model_fields", {})
    chosen = {k: v for k, v in settings.items() if k in fields and v is not None}
    if "max_tokens" in chosen and getattr(model, "openai_api_base", None):
        # langchain-openai sends `max_completion_tokens`, which some self-hosted servers
        # (llama-cpp-python's) ignore; they read the older `max_tokens`
        chosen["extra_body"] = {**(getattr(model, "extra_body", None) or {}),
                                "max_tokens": chosen["max_tokens"]}  # fmt: skip
    return chosen


def _generate(
    model: BaseChatModel,
    prompts: Prompts,
    *,
    n: int,
    workers: int,
    kwargs: dict[str, Any],
) -> list[list[str]]:
    kwargs = dict(kwargs)
    seed = kwargs.pop("seed", None)

    def single(prompt: Sequence[BaseMessage], copy: int) -> str:
        # copies of one prompt get different seeds, or a seeded server samples them alike
        own = {**kwargs, "seed": seed + copy} if seed is not None else kwargs
        return _text((model.bind(**own) if own else model).invoke(list(prompt)))

    if n > 1 and _supports_native_n(model):

        def one(prompt: Sequence[BaseMessage]) -> list[str]:
            own = {**kwargs, "seed": seed} if seed is not None else kwargs
            result = model.generate([list(prompt)], n=n, **own)
            texts = [_text(g.message) for g in result.generations[0]]  # type: ignore[attr-defined]
            while len(texts) < n:  # servers that ignore `n` (llama.cpp's) answer once
                texts.append(single(prompt, len(texts)))
            return texts[:n]

        with ContextThreadPoolExecutor(max_workers=max(1, min(workers, len(prompts)))) as pool:
            return list(pool.map(one, prompts))
    flat = [(p, copy) for p in prompts for copy in range(n)]
    with ContextThreadPoolExecutor(max_workers=max(1, min(workers, len(flat)))) as pool:
        texts = list(pool.map(lambda item: single(*item), flat))
    return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def _text(message: Any) -> str:
    if isinstance(message, BaseMessage):
        return message_text(message).strip()
    return str(message).strip()
