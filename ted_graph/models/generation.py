"""Text generation over any LangChain chat model, batched where the backend allows.

:func:`generate` and :func:`generate_iter` hand every call to the model's
:class:`~ted_graph.models.base.GenerationBackend` (chosen by
:func:`~ted_graph.models.backends.backend_for`) and report what it ran to the active usage
meters:

* llama.cpp models: every prompt at once to the continuous-batching engine
  (:class:`~ted_graph.models.llamacpp.LlamaCppBackend`);
* in-process transformers models: padded batches, each prompt prefilled once for its ``n``
  rollouts (:class:`~ted_graph.models.local_generation.TransformersBackend`);
* in-process vision models (:class:`~ted_graph.models.vision.VisionBackend`);
* any other chat model, remote endpoints included: ``n`` choices per request where the
  client has a native ``n``, concurrent ``invoke`` calls otherwise
  (:class:`~ted_graph.models.chat.ChatModelBackend`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ted_graph.models.backends import backend_for
from ted_graph.models.base import (
    GenerationBackend,
    GenerationRequest,
    Prompts,
    cut_at_stop,
    has_images,
    message_text,
    to_chat_dicts,
)
from ted_graph.models.usage import metering, record_generation

__all__ = [
    "generate",
    "generate_iter",
    "generation_progress",
    "default_batch_size",
    "message_text",
    "to_chat_dicts",
]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_PROGRESS: ContextVar[Progress | None] = ContextVar("ted_generation_progress", default=None)


@contextmanager
def generation_progress(callback: Progress | None) -> Iterator[None]:
    """Call ``callback(done, total)`` as the prompts of every :func:`generate` call inside
    the block finish (one call per finished prompt where the backend streams, once at the
    end otherwise), so a long batched request can show its progress.

    >>> seen = []
    >>> with generation_progress(lambda done, total: seen.append((done, total))):
    ...     pass
    >>> seen
    []
    """
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def generate(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    n: int = 1,
    temperature: float = 0.0,
    max_tokens: int = 256,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
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
            models keep their own settings unless they declare a ``temperature`` field.
        max_tokens: new tokens per completion.
        seed: base seed for sampling, for reproducible rollouts.
        stop: strings that end a completion (it is cut before the first one).
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
    request = GenerationRequest(
        n=n,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        stop=stop,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        repetition_penalty=repetition_penalty,
        min_tokens=min_tokens,
        grammar=grammar,
    )
    return _run(model, prompts, request)


def _run(
    model: BaseChatModel, prompts: Sequence[Sequence[BaseMessage]], request: GenerationRequest
) -> list[list[str]]:
    if not prompts:
        return []
    backend = backend_for(model)
    _check_images(backend, model, prompts)
    started = time.time()
    progress = _PROGRESS.get()
    if progress is not None and backend.streams:
        done: dict[int, list[str]] = {}
        for i, texts in backend.stream(model, prompts, request):
            done[i] = texts
            progress(len(done), len(prompts))
        out = [_cut(done[i], request.stop) for i in range(len(prompts))]
    else:
        out = [_cut(texts, request.stop) for texts in backend.generate(model, prompts, request)]
        if progress is not None:
            progress(len(prompts), len(prompts))
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
    backend = backend_for(model)
    progress = _PROGRESS.get()
    finished = 0
    if backend.streams:
        request = GenerationRequest(batch_size=batch_size, **kwargs)
        _check_images(backend, model, prompts)
        started = time.time()
        for i, texts in backend.stream(model, prompts, request):
            texts = _cut(texts, request.stop)
            if metering():
                record_generation(model, [prompts[i]], [texts], started, time.time())
            finished += 1
            if progress is not None:
                progress(finished, len(prompts))
            yield i, texts
        return
    size = batch_size or backend.batch_size(model)
    for start in range(0, len(prompts), size):
        chunk = prompts[start : start + size]
        with generation_progress(None):  # counted here, over all the prompts
            outputs = generate(model, chunk, batch_size=size, **kwargs)
        finished += len(chunk)
        if progress is not None:
            progress(finished, len(prompts))
        for offset, texts in enumerate(outputs):
            yield start + offset, texts


def default_batch_size(model: BaseChatModel) -> int:
    """Sequences per forward pass that suit the model's backend and device.

    llama.cpp: its ``n_parallel``. transformers: 64 on a GPU and for bfloat16 weights on
    a CPU (on AMX a forward pass over 40 sequences took 0.25 s, over one 0.1 s: the
    weights are read once per pass), 8 for float32 or int8 on a CPU. Remote models: 8
    prompts at a time.
    """
    return backend_for(model).batch_size(model)


def _cut(texts: list[str], stop: tuple[str, ...]) -> list[str]:
    return [cut_at_stop(t, stop) for t in texts] if stop else texts


def _check_images(backend: GenerationBackend, model: BaseChatModel, prompts: Prompts) -> None:
    if not backend.reads_images and has_images(prompts):
        _warn_text_only(model)


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
