"""llama.cpp as a LangChain chat model: quantized GGUF weights, continuous batching.

``ChatLlamaCppBatched`` is an ordinary ``BaseChatModel`` (``invoke``, ``batch``, ``n``
completions), backed by a shared :class:`~ted_graph.models.llamacpp_engine.LlamaEngine`.
Every call, from any thread, joins the engine's running batch, so the parallel branches of
a distillation step and the items of an evaluation share forward passes.
:class:`LlamaCppBackend` is its :class:`~ted_graph.models.base.GenerationBackend`:
:func:`ted_graph.models.generate` submits all of its prompts at once.

Needs the optional ``llama-cpp-python`` package (``pip install "ted-graph[llamacpp]"``,
a source build of about 7 minutes on two cores).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, as_completed
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

from ted_graph.models.base import (
    GenerationBackend,
    GenerationRequest,
    Prompts,
    cut_at_stop,
    to_chat_dicts,
)
from ted_graph.models.llamacpp_cpu import Placement
from ted_graph.models.llamacpp_engine import LlamaEngine, SamplingParams

__all__ = [
    "ChatLlamaCppBatched",
    "LlamaCppBackend",
    "load_llamacpp_chat_model",
    "llamacpp_available",
    "engine_for",
    "requantize",
]

_ENGINES: dict[tuple[Any, ...], LlamaEngine] = {}
_ENGINES_GUARD = threading.Lock()


def llamacpp_available() -> bool:
    """Whether ``llama-cpp-python`` is installed."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def engine_for(
    model_path: str,
    n_ctx: int,
    n_parallel: int,
    n_batch: int,
    n_threads: int | None,
    placement: Placement | None = None,
) -> LlamaEngine:
    """The process-wide engine for these settings (models load once per process)."""
    key = (str(Path(model_path).resolve()), n_ctx, n_parallel, n_batch, n_threads, placement)
    with _ENGINES_GUARD:
        engine = _ENGINES.get(key)
        if engine is None:
            if not _ENGINES:  # stop the workers before the interpreter tears down
                atexit.register(_close_engines)
            engine = _ENGINES[key] = LlamaEngine(
                model_path,
                n_ctx=n_ctx,
                n_parallel=n_parallel,
                n_batch=n_batch,
                n_threads=n_threads,
                placement=placement,
            )
        return engine


def _close_engines() -> None:
    with _ENGINES_GUARD:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.close()


class ChatLlamaCppBatched(BaseChatModel):
    """A GGUF model run in-process by llama.cpp, batching concurrent requests.

    Example:
        .. code-block:: python

            from ted_graph.models import ChatLlamaCppBatched

            model = ChatLlamaCppBatched(model_path="qwen2.5-0.5b-instruct-q4_k_m.gguf")
            model.invoke("What is 17 * 23?")

    Usually built from a spec: ``load_chat_model("llamacpp:smollm2-135m")``.
    """

    model_path: str
    """A local GGUF file."""
    seq_tokens: int = 4096
    """Tokens one sequence may hold, prompt plus generation (its own KV stream)."""
    n_parallel: int = 16
    """Sequences decoded together in one forward pass."""
    n_batch: int = 512
    """Most prompt tokens per prefill pass."""
    n_threads: int | None = None
    """CPU threads (default: all usable cores)."""
    max_tokens: int = 256
    temperature: float = 0.0
    """0 decodes greedily."""
    top_p: float = 0.95
    top_k: int = 64
    """Candidates kept before the ``top_p`` cut (0: all); see :class:`SamplingParams`."""
    repetition_penalty: float = 1.0
    seed: int | None = None
    n: int = Field(default=1, ge=1)
    """Completions per prompt."""
    placement: Placement | None = None
    """Where llama.cpp keeps the weights (``"auto"``, ``"llama.cpp"``, ``"repack"``,
    ``"plain"``; default ``$TED_LLAMACPP_WEIGHTS``, else ``"auto"``); see
    :mod:`ted_graph.models.llamacpp_cpu`."""

    _engine: LlamaEngine | None = PrivateAttr(default=None)
    _formatter: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-batched"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_parallel": self.n_parallel}

    @property
    def engine(self) -> LlamaEngine:
        if self._engine is None:
            self._engine = engine_for(
                self.model_path,
                self.n_parallel * self.seq_tokens,
                self.n_parallel,
                self.n_batch,
                self.n_threads,
                self.placement,
            )
        return self._engine

    def prompt_tokens(self, messages: Sequence[BaseMessage]) -> list[int]:
        """The chat-templated prompt of ``messages`` as token ids."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        engine = self.engine
        if self._formatter is None:
            template = engine.vocab.chat_template
            if not template:
                raise ValueError(
                    f"{self.model_path} has no chat template in its GGUF metadata; "
                    "use an instruction-tuned (chat) model"
                )
            self._formatter = Jinja2ChatFormatter(
                template, engine.vocab.eos_text, engine.vocab.bos_text
            )
        text = self._formatter(messages=to_chat_dicts(messages)).prompt
        return engine.tokenize(text)

    def sampling(self, **overrides: Any) -> SamplingParams:
        """This model's sampling settings, with per-call ``overrides``."""
        fields = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "repetition_penalty": self.repetition_penalty,
            "seed": self.seed,
        }
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return SamplingParams(**fields)

    def submit(
        self, messages: Sequence[BaseMessage], n: int = 1, **sampling: Any
    ) -> Future[list[str]]:
        """Queue one prompt; the future resolves to its ``n`` completions."""
        engine = self.engine
        inner = engine.submit(self.prompt_tokens(messages), n, self.sampling(**sampling))
        outer: Future[list[str]] = Future()

        def done(future: Future[list[list[int]]]) -> None:
            if outer.done():  # cancelled by the caller
                return
            try:
                texts = [engine.detokenize(t).strip() for t in future.result()]
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                outer.set_exception(exc)
                return
            outer.set_result(texts)

        inner.add_done_callback(done)
        return outer

    def generate_many(
        self,
        prompts: Sequence[Sequence[BaseMessage]],
        n: int = 1,
        **sampling: Any,
    ) -> list[list[str]]:
        """``n`` completions of every prompt, all submitted to the engine at once."""
        futures = [self.submit(p, n, **sampling) for p in prompts]
        return [f.result() for f in futures]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        n = int(kwargs.pop("n", self.n))
        allowed = {
            "max_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed", "grammar",
        }  # fmt: skip
        unknown = set(kwargs) - allowed - {"min_tokens"}
        if unknown:
            raise TypeError(f"unsupported generation arguments: {sorted(unknown)}")
        engine = self.engine
        tokens = self.prompt_tokens(messages)
        params = self.sampling(**kwargs)
        outputs = engine.submit(tokens, n, params).result()
        generations = []
        for out in outputs:
            text = cut_at_stop(engine.detokenize(out), stop)
            usage = {
                "input_tokens": len(tokens),
                "output_tokens": len(out),
                "total_tokens": len(tokens) + len(out),
            }
            message = AIMessage(content=text, usage_metadata=usage)  # type: ignore[arg-type]
            generations.append(ChatGeneration(message=message))
        return ChatResult(generations=generations)


class LlamaCppBackend(GenerationBackend):
    """:class:`ChatLlamaCppBatched` models: every prompt is submitted at once to the
    model's continuous-batching engine, which decodes up to ``n_parallel`` sequences per
    forward pass and shares each prompt's prefill among its ``n`` rollouts. Text only."""

    name = "llama.cpp"
    reads_images = False
    streams = True

    def matches(self, model: BaseChatModel) -> bool:
        return isinstance(model, ChatLlamaCppBatched)

    def generate(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> list[list[str]]:
        return model.generate_many(prompts, request.n, **_sampling(request))  # type: ignore[attr-defined]

    def stream(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> Iterator[tuple[int, list[str]]]:
        sampling = _sampling(request)
        futures = {model.submit(p, request.n, **sampling): i for i, p in enumerate(prompts)}  # type: ignore[attr-defined]
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def batch_size(self, model: BaseChatModel) -> int:
        return model.n_parallel  # type: ignore[attr-defined]

    def count_prompt_tokens(
        self, model: BaseChatModel, messages: Sequence[BaseMessage]
    ) -> tuple[int, bool]:
        return len(model.prompt_tokens(messages)), False  # type: ignore[attr-defined]

    def count_text_tokens(self, model: BaseChatModel, text: str) -> tuple[int, bool]:
        return len(model.engine.tokenize(text)), False  # type: ignore[attr-defined]


def _sampling(request: GenerationRequest) -> dict[str, Any]:
    return {
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "repetition_penalty": request.repetition_penalty,
        "min_tokens": request.min_tokens,
        "grammar": request.grammar,
    }


_REQUANTIZE = {"q4_0": 2, "q8_0": 7}  # llama.cpp LLAMA_FTYPE_MOSTLY_* values


def requantize(model_path: str, quantization: str) -> str:
    """A copy of a GGUF file requantized to ``q4_0`` or ``q8_0``, made once and cached.

    llama.cpp repacks ``Q4_0`` weights for the CPU's wide vector units; measured here, a
    ``Q4_K_M`` model requantized to ``Q4_0`` prefilled about 2x and decoded about 1.4x
    faster. Requantizing an already quantized model adds error: compare answers first
    (``benchmarks/agreement.py``).
    """
    import ctypes

    import llama_cpp as lc

    from ted_graph.models.registry import cache_dir

    if quantization not in _REQUANTIZE:
        raise ValueError(f"quantization must be one of {sorted(_REQUANTIZE)}, got {quantization!r}")
    source = Path(model_path)
    target = cache_dir() / "gguf" / f"{source.stem}.{quantization}.gguf"
    if target.exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    params = lc.llama_model_quantize_default_params()
    params.ftype = _REQUANTIZE[quantization]
    params.allow_requantize = True
    status = lc.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
    if status != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"llama.cpp could not requantize {source} to {quantization}")
    tmp.replace(target)
    return str(target)


def load_llamacpp_chat_model(
    spec: str,
    *,
    max_new_tokens: int = 256,
    n_parallel: int = 16,
    seq_tokens: int = 4096,
    n_batch: int = 512,
    n_threads: int | None = None,
    quantization: str | None = None,
    placement: Placement | None = None,
) -> ChatLlamaCppBatched:
    """A packaged model, local ``.gguf`` file or hub ``org/name/file.gguf`` on llama.cpp.

    Args:
        spec: see :func:`ted_graph.models.registry.resolve_gguf`.
        max_new_tokens: default generation length for plain ``invoke`` calls.
        n_parallel: most sequences decoded together.
        seq_tokens: tokens one sequence may hold (prompt plus generation). The KV cache
            holds ``n_parallel * seq_tokens`` tokens.
        n_batch: most prompt tokens per prefill pass.
        n_threads: CPU threads (default: all usable cores).
        quantization: ``None`` runs the weights as shipped; ``"q4_0"`` or ``"q8_0"``
            requantize them once (see :func:`requantize`).
        placement: where llama.cpp keeps the weights (default ``$TED_LLAMACPP_WEIGHTS``,
            else ``"auto"``); see :mod:`ted_graph.models.llamacpp_cpu`.
    """
    if not llamacpp_available():
        raise ImportError(
            "the llama.cpp backend needs llama-cpp-python: pip install 'ted-graph[llamacpp]' "
            "(a source build of about 7 minutes on two cores)"
        )
    from ted_graph.models.registry import resolve_gguf

    path = resolve_gguf(spec)
    if quantization is not None:
        path = requantize(path, quantization)
    return ChatLlamaCppBatched(
        model_path=path,
        seq_tokens=seq_tokens,
        n_parallel=n_parallel,
        n_batch=n_batch,
        n_threads=n_threads,
        max_tokens=max_new_tokens,
        placement=placement,
    )
