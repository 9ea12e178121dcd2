"""Local Hugging Face chat models (transformers), wrapped as LangChain chat models."""

from __future__ import annotations

import threading
import time
from typing import Any

from langchain_core.language_models import BaseChatModel

from ted_graph.models.cpu import take_turns
from ted_graph.models.registry import resolve_weights

__all__ = ["load_local_chat_model", "local_backend", "batcher_for", "cpu_has_amx", "LocalBatcher"]

_BATCHERS: dict[str, "LocalBatcher"] = {}
_BATCHERS_GUARD = threading.Lock()


def load_local_chat_model(
    spec: str,
    *,
    device: str = "cpu",
    dtype: str = "auto",
    quantize: str = "auto",
    max_new_tokens: int = 256,
) -> BaseChatModel:
    """Load a local transformers model as a ``ChatHuggingFace``.

    Args:
        spec: a packaged name (``smollm2-135m``, ``qwen2.5-coder-0.5b``), a local folder or
            ``.gguf`` file, or a hub id.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        dtype: ``"auto"`` (bfloat16 on GPUs and on CPUs with AMX, whose tile units
            multiply bfloat16 matrices; float32 on other CPUs), or a torch dtype name.
        quantize: ``"int8"`` (torch dynamic int8 quantization of the linear layers, CPU
            only), ``"none"``, or ``"auto"``: int8 for float32 models of at least 0.3B
            parameters on a CPU. Measured on a CPU without AMX, int8 made Qwen2.5-0.5B 2x
            faster for one sequence and 2.8x for four; SmolLM2-135M gains little and its
            answers degrade, so small models stay in float. bfloat16 models are not
            quantized.
        max_new_tokens: default generation length for plain ``invoke`` calls.
    """
    import torch
    from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    source = resolve_weights(spec)
    if dtype == "auto":
        torch_dtype = torch.bfloat16 if device != "cpu" or cpu_has_amx() else torch.float32
    else:
        torch_dtype = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    model.to(device)
    model.eval()
    if quantize not in ("auto", "int8", "none"):
        raise ValueError(f"quantize must be 'auto', 'int8' or 'none', got {quantize!r}")
    n_params = sum(p.numel() for p in model.parameters())
    auto_int8 = quantize == "auto" and n_params >= 3e8 and torch_dtype == torch.float32
    if device == "cpu" and (quantize == "int8" or auto_int8):
        model = _quantize_int8(model)
    if device == "cpu":
        take_turns(model)  # with llama.cpp engines and other models, step by step
    # langchain-huggingface ignores HuggingFacePipeline.pipeline_kwargs when generating,
    # so the defaults for plain invoke() calls are set on the transformers pipeline itself.
    pipe = pipeline(
        "text-generation",
        model=model,
        tokenizer=tokenizer,
        max_new_tokens=max_new_tokens,
        return_full_text=False,
        do_sample=False,
    )
    llm = HuggingFacePipeline(pipeline=pipe, model_id=spec)
    return ChatHuggingFace(llm=llm, tokenizer=tokenizer, model_id=spec)


def cpu_has_amx() -> bool:
    """Whether torch can run bfloat16 matrix products on this CPU's AMX tile units."""
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe and probe())


def _quantize_int8(model: Any) -> Any:
    import warnings

    import torch

    with warnings.catch_warnings():  # torch points users of this API at torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def local_backend(model: BaseChatModel) -> tuple[Any, Any] | None:
    """``(transformers model, tokenizer)`` if ``model`` runs in-process, else ``None``."""
    try:
        from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    except ImportError:  # pragma: no cover - a core dependency
        return None
    if isinstance(model, ChatHuggingFace) and isinstance(model.llm, HuggingFacePipeline):
        pipe = model.llm.pipeline
        if getattr(pipe, "task", "") == "text-generation":
            return pipe.model, (model.tokenizer or pipe.tokenizer)
    return None


class LocalBatcher:
    """Serialises generation on one device and merges compatible requests.

    Graph branches call models from parallel threads. While one ``generate`` runs, the
    requests that arrive queue up; the next thread to take the model runs every queued
    request that shares its settings in one padded batch. A request merges only when its
    output does not depend on what it is batched with (up to float rounding): greedy ones,
    and sampled ones whose rows carry their own seeds
    (:class:`~ted_graph.models.local_generation.RowSampler`); any other
    request runs alone so that its seed alone decides its rollouts.
    """

    def __init__(self, gather_s: float = 0.05) -> None:
        self._cv = threading.Condition()
        self._busy = False
        self._pending: list[_Request] = []
        self.gather_s = gather_s  # how long a free model waits for requests to pile up

    def run(
        self, texts: list[Any], key: tuple[Any, ...], mergeable: bool, execute: Any
    ) -> list[list[str]]:
        """Run ``execute(texts)`` for this request, batched with compatible queued ones."""
        request = _Request(texts, key if mergeable else (object(),))
        with self._cv:
            self._pending.append(request)
            self._cv.notify_all()
            while not request.done and self._busy:
                self._cv.wait()
            if request.done:
                return request.result
            self._busy = True
            self._gather()
            group = [r for r in self._pending if r.key == request.key]
            self._pending = [r for r in self._pending if r.key != request.key]
        try:
            merged = [t for r in group for t in r.texts]
            outputs = execute(merged)
            offset = 0
            for r in group:
                r.result = outputs[offset : offset + len(r.texts)]
                offset += len(r.texts)
        except BaseException as exc:
            for r in group:
                r.error = exc
            raise
        finally:
            with self._cv:
                for r in group:
                    r.done = True
                self._busy = False
                self._cv.notify_all()
        return request.result

    def _gather(self) -> None:
        """Wait (at most ``gather_s``, and only while requests keep arriving, a fifth of it
        apart at most): the branches of a graph step call at nearly the same time, and one
        batch of all of them is far cheaper than a first small batch the rest wait for."""
        deadline = time.monotonic() + self.gather_s
        while (left := deadline - time.monotonic()) > 0:
            seen = len(self._pending)
            self._cv.wait(min(left, self.gather_s / 5))
            if len(self._pending) == seen:
                return


class _Request:
    def __init__(self, texts: list[str], key: tuple[Any, ...]) -> None:
        self.texts = texts
        self.key = key
        self.done = False
        self.error: BaseException | None = None
        self._result: list[list[str]] = []

    @property
    def result(self) -> list[list[str]]:
        if self.error is not None:
            raise RuntimeError("batched generation failed") from self.error
        return self._result

    @result.setter
    def result(self, value: list[list[str]]) -> None:
        self._result = value


def batcher_for(hf_model: Any) -> LocalBatcher:
    """The batcher of the device an in-process model runs on.

    One per device, not per model: a student and a teacher generating at once on the same
    CPU cores would only slow each other down, while taking turns lets the requests that
    pile up meanwhile merge. Callers put the model's identity into the merge key.
    """
    device = str(getattr(hf_model, "device", "cpu"))
    with _BATCHERS_GUARD:
        batcher = _BATCHERS.get(device)
        if batcher is None:
            batcher = _BATCHERS[device] = LocalBatcher()
        return batcher
