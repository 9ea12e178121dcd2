"""Local Hugging Face chat models (transformers), wrapped as LangChain chat models."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from langchain_core.language_models import BaseChatModel

from ted_graph.models.registry import resolve_weights

__all__ = ["load_local_chat_model", "local_backend", "generation_lock"]

_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def load_local_chat_model(
    spec: str,
    *,
    device: str = "cpu",
    dtype: str = "auto",
    max_new_tokens: int = 256,
) -> BaseChatModel:
    """Load a local transformers model as a ``ChatHuggingFace``.

    Args:
        spec: a packaged name (``smollm2-135m``, ``qwen2.5-coder-0.5b``), a local folder or
            ``.gguf`` file, or a hub id.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        dtype: ``"auto"`` (float32 on CPU, where it batches fastest here; bfloat16 on GPU),
            or a torch dtype name.
        max_new_tokens: default generation length for plain ``invoke`` calls.
    """
    import torch
    from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    source = resolve_weights(spec)
    if dtype == "auto":
        torch_dtype = torch.float32 if device == "cpu" else torch.bfloat16
    else:
        torch_dtype = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    model.to(device)
    model.eval()
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


def generation_lock(hf_model: Any) -> threading.Lock:
    """One lock per in-process model: parallel graph branches take turns on the cores."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(hf_model)
        if lock is None:
            lock = _LOCKS[hf_model] = threading.Lock()
        return lock
