"""Text generation over any LangChain chat model, batched where the backend allows.

* llama.cpp models (:class:`ChatLlamaCppBatched`): every prompt is submitted at once to
  the model's continuous-batching engine, which decodes up to ``n_parallel`` sequences
  per forward pass, sharing each prompt's prefill among its ``n`` rollouts.
* In-process transformers models: concurrent requests merge into padded batches of
  ``batch_size`` sequences, each prompt prefilled once for its ``n`` rollouts
  (:mod:`ted_graph.models.local_generation`).
* Models with a native ``n`` parameter (OpenAI-compatible clients): one request per
  prompt returning ``n`` choices.
* Any other chat model: ``n`` concurrent ``invoke`` calls through ``Runnable.batch``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import as_completed
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables.config import ContextThreadPoolExecutor

from ted_graph.models.llamacpp import ChatLlamaCppBatched
from ted_graph.models.local import local_backend
from ted_graph.models.local_generation import generate_local
from ted_graph.models.usage import metering, record_generation

__all__ = ["generate", "generate_iter", "default_batch_size", "message_text", "to_chat_dicts"]

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}

logger = logging.getLogger(__name__)


def message_text(message: BaseMessage) -> str:
    """The plain text of a message (text blocks joined)."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def to_chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages to the ``{"role", "content"}`` dicts of chat templates."""
    return [{"role": _ROLES.get(m.type, "user"), "content": message_text(m)} for m in messages]


def generate(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    n: int = 1,
    temperature: float = 0.0,
    max_tokens: int = 256,
    seed: int | None = None,
    batch_size: int | None = None,
    max_concurrency: int = 8,
    repetition_penalty: float = 1.0,
    min_tokens: int = 0,
    grammar: str | None = None,
) -> list[list[str]]:
    """Generate ``n`` completions for each prompt.

    Args:
        model: any LangChain chat model.
        prompts: message lists, one per prompt.
        n: completions per prompt.
        temperature: sampling temperature for in-process models (0 = greedy). Remote
            models keep their own settings.
        max_tokens: new tokens per completion for in-process models.
        seed: torch seed for in-process sampling, for reproducible rollouts.
        batch_size: sequences per forward pass for in-process transformers models
            (default: :func:`default_batch_size`; llama.cpp models batch up to their
            ``n_parallel``).
        max_concurrency: parallel requests for remote models.
        repetition_penalty: for in-process models; above 1.0 discourages the loops that
            small models fall into under greedy decoding.
        min_tokens: for in-process models, suppress end-of-sequence before this many new
            tokens (benchmarks use it to time fixed-length generation).
        grammar: a llama.cpp GBNF grammar (root rule ``root``) that llama.cpp models decode
            under, so their output always matches it; other models ignore it (their output
            is validated as usual).

    Returns:
        ``out[i][j]`` is the ``j``-th completion of prompt ``i``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not prompts:
        return []
    started = time.time()
    local = isinstance(model, ChatLlamaCppBatched) or local_backend(model) is not None
    if local and _has_images(prompts):
        _warn_text_only(model)
    if isinstance(model, ChatLlamaCppBatched):
        out = model.generate_many(
            prompts,
            n,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            repetition_penalty=repetition_penalty,
            min_tokens=min_tokens,
            grammar=grammar,
        )
    elif (backend := local_backend(model)) is not None:
        out = generate_local(
            *backend,
            prompts,
            n=n,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            batch_size=batch_size or default_batch_size(model),
            repetition_penalty=repetition_penalty,
            min_tokens=min_tokens,
        )
    else:
        settings = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        out = _generate_remote(
            model, prompts, n=n, max_concurrency=max_concurrency, settings=settings
        )
    if metering():
        record_generation(model, prompts, out, started, time.time())
    return out


def generate_iter(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    batch_size: int | None = None,
    **kwargs: Any,
) -> Iterator[tuple[int, list[str]]]:
    """Like :func:`generate`, yielding ``(prompt index, completions)`` as they finish.

    llama.cpp models get every prompt at once and yield in completion order (their engine
    keeps its batch full); other models go ``batch_size`` prompts at a time (default:
    :func:`default_batch_size`).
    """
    if isinstance(model, ChatLlamaCppBatched):
        sampling = {k: v for k, v in kwargs.items() if k != "max_concurrency"}
        n = sampling.pop("n", 1)
        started = time.time()
        futures = {model.submit(p, n, **sampling): i for i, p in enumerate(prompts)}
        try:
            for future in as_completed(futures):
                i, texts = futures[future], future.result()
                if metering():
                    record_generation(model, [prompts[i]], [texts], started, time.time())
                yield i, texts
        finally:
            for future in futures:
                future.cancel()
        return
    size = batch_size or default_batch_size(model)
    for start in range(0, len(prompts), size):
        chunk = prompts[start : start + size]
        for offset, texts in enumerate(generate(model, chunk, batch_size=size, **kwargs)):
            yield start + offset, texts


def default_batch_size(model: BaseChatModel) -> int:
    """Sequences per forward pass that suit the model's backend and device.

    llama.cpp: its ``n_parallel``. transformers: 64 on a GPU and for bfloat16 weights on
    a CPU (on AMX a forward pass over 40 sequences took 0.25 s, over one 0.1 s: the
    weights are read once per pass), 8 for float32 or int8 on a CPU. Remote models: 8
    prompts at a time.
    """
    if isinstance(model, ChatLlamaCppBatched):
        return model.n_parallel
    backend = local_backend(model)
    if backend is not None:
        hf_model = backend[0]
        if str(getattr(hf_model, "device", "cpu")).startswith("cuda"):
            return 64
        if str(getattr(hf_model, "dtype", "")) == "torch.bfloat16":
            return 64
    return 8


def _has_images(prompts: Sequence[Sequence[BaseMessage]]) -> bool:
    return any(
        isinstance(block, dict) and block.get("type") in ("image", "image_url")
        for prompt in prompts
        for message in prompt
        if not isinstance(message.content, str)
        for block in message.content
    )


_WARNED: set[str] = set()


def _warn_text_only(model: BaseChatModel) -> None:
    name = type(model).__name__
    if name not in _WARNED:
        _WARNED.add(name)
        logger.warning(
            "%s reads text only: the problems' images are left out of its prompts. Use a "
            "multimodal chat model (e.g. an OpenAI-compatible VLM server) for image problems.",
            name,
        )


def _supports_native_n(model: BaseChatModel) -> bool:
    return "n" in getattr(type(model), "model_fields", {})


def _call_settings(model: BaseChatModel, settings: dict[str, Any]) -> dict[str, Any]:
    """The sampling settings a remote model declares fields for (ChatOpenAI: temperature,
    max_tokens, seed); other models keep their own configuration."""
    fields = getattr(type(model), "model_fields", {})
    chosen = {k: v for k, v in settings.items() if k in fields and v is not None}
    if "max_tokens" in chosen and getattr(model, "openai_api_base", None):
        # langchain-openai sends `max_completion_tokens`, which some self-hosted servers
        # (llama-cpp-python's) ignore; they read the older `max_tokens`
        chosen["extra_body"] = {**(getattr(model, "extra_body", None) or {}),
                                "max_tokens": chosen["max_tokens"]}  # fmt: skip
    return chosen


def _generate_remote(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    n: int,
    max_concurrency: int,
    settings: dict[str, Any] | None = None,
) -> list[list[str]]:
    kwargs = _call_settings(model, settings or {})
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

        with ContextThreadPoolExecutor(
            max_workers=max(1, min(max_concurrency, len(prompts)))
        ) as pool:
            return list(pool.map(one, prompts))
    flat = [(p, copy) for p in prompts for copy in range(n)]
    with ContextThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(flat)))) as pool:
        texts = list(pool.map(lambda item: single(*item), flat))
    return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def _text(message: Any) -> str:
    if isinstance(message, BaseMessage):
        return message_text(message).strip()
    return str(message).strip()
