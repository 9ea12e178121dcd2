"""Batched generation for in-process transformers models.

Requests that graph branches send from parallel threads are merged by the device's
:class:`~ted_graph.models.local.LocalBatcher` into one padded ``generate`` call whenever
their token budget and penalty match, greedy and sampled alike:

* every distinct prompt is prefilled once; its KV cache is repeated for its ``n``
  rollouts (``DynamicCache.reorder_cache``), so rollouts do not pay for prefill again;
* sampled rows draw their tokens with the Gumbel-max trick from a generator seeded per
  row (:class:`RowSampler`), so a rollout depends on its own seed only, not on which
  other requests it happened to be batched with; greedy rows take the argmax as before.

On CPUs with AMX, bfloat16 matrix products run on the tile units; a decoding pass reads
every weight once however many sequences it carries (0.25 s for 40 sequences of the 0.5B
student, 0.1 s for one, on this project's 2-core machine), so merging is where most of
the speed comes from (BENCHMARKS.md, "Prefill against the compute ceiling").

:class:`TransformersBackend` is these models' :class:`~ted_graph.models.base.GenerationBackend`.
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ted_graph.models.base import (
    GenerationBackend,
    GenerationRequest,
    Prompts,
    to_chat_dicts,
)
from ted_graph.models.local import batcher_for, local_backend

__all__ = ["RowSampler", "TransformersBackend", "generate_local", "TOP_P", "SAMPLE_TOP_K"]

#: nucleus mass kept when sampling (the llama.cpp engine's default too)
TOP_P = 0.95
#: candidates a sampled row chooses among before the nucleus cut; beyond the 64 likeliest
#: tokens a temperature-0.7 distribution has no mass worth keeping
SAMPLE_TOP_K = 64


@dataclass(frozen=True)
class _Prompt:
    text: str
    n: int
    temperature: float
    seed: int


class RowSampler:
    """A logits processor that samples each sampled row from its own seeded generator.

    For a row with temperature ``t > 0`` it keeps the ``SAMPLE_TOP_K`` likeliest tokens,
    cuts them to the nucleus of mass ``top_p``, and picks ``argmax(logit / t + Gumbel
    noise)``: an exact draw from the truncated ``softmax(logits / t)``. It then leaves
    only that token finite, so greedy decoding (``do_sample=False``) emits it. Rows with
    temperature 0 are left alone (greedy).

    Example:
        >>> import torch
        >>> sampler = RowSampler([0.0, 1.0], [0, 7])
        >>> scores = torch.tensor([[0.0, 5.0, 1.0], [0.0, 5.0, 1.0]])
        >>> out = sampler(torch.zeros(2, 1, dtype=torch.long), scores.clone())
        >>> out[0].tolist(), int(torch.isfinite(out[1]).sum())
        ([0.0, 5.0, 1.0], 1)
    """

    def __init__(self, temperatures: Sequence[float], seeds: Sequence[int], top_p: float = TOP_P):
        import torch

        self.rows = [i for i, t in enumerate(temperatures) if t > 0]
        self.temperatures = torch.tensor([temperatures[i] for i in self.rows]).unsqueeze(1)
        self.generators = [torch.Generator().manual_seed(int(seeds[i])) for i in self.rows]
        self.top_p = top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if not self.rows:
            return scores
        index = torch.tensor(self.rows)
        logits = scores[index].float() / self.temperatures
        k = min(SAMPLE_TOP_K, logits.shape[-1])
        values, tokens = logits.topk(k, dim=-1)
        probs = (values - logits.logsumexp(dim=-1, keepdim=True)).exp()
        outside = probs.cumsum(dim=-1) - probs >= self.top_p  # the first token always stays
        values = values.masked_fill(outside, float("-inf"))
        uniform = torch.stack([torch.rand(k, generator=g) for g in self.generators])
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
        chosen = tokens.gather(1, (values + gumbel).argmax(dim=-1, keepdim=True))
        rows = torch.full_like(scores[index], float("-inf"))
        rows.scatter_(1, chosen, 0.0)
        scores[index] = rows
        return scores


@functools.cache
def _cache_keyword(model_class: type) -> str:
    """``cache``, the name newer transformers give the KV cache argument of ``forward``
    and ``generate``, or ``past_key_values`` where the model class predates it."""
    names = inspect.signature(model_class.forward).parameters
    return "cache" if "cache" in names else "past_key_values"


def _row_seed(seed: int, copy: int) -> int:
    return (seed * 1_000_003 + copy * 7_919) % (2**62)


def generate_local(
    hf_model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    n: int,
    temperature: float,
    max_tokens: int,
    seed: int | None,
    batch_size: int,
    repetition_penalty: float = 1.0,
    min_tokens: int = 0,
) -> list[list[str]]:
    """``n`` completions for each prompt from a transformers causal LM (see the module
    docstring); at most ``batch_size`` sequences per ``generate`` call."""
    sampling = temperature > 0
    base_seed = seed if seed is not None else random.randrange(2**62)
    items = [
        _Prompt(
            tokenizer.apply_chat_template(
                to_chat_dicts(p), add_generation_prompt=True, tokenize=False
            ),
            n if sampling else 1,
            temperature if sampling else 0.0,
            base_seed + i,
        )
        for i, p in enumerate(prompts)
    ]
    copies = 1 if sampling else n  # greedy: one sequence, the n copies are identical

    def execute(batch: list[_Prompt]) -> list[list[str]]:
        out: list[list[str]] = []
        chunk: list[_Prompt] = []
        for item in batch:  # chunks of whole prompts, each at most batch_size rows
            if chunk and sum(p.n for p in chunk) + item.n > max(batch_size, item.n):
                out.extend(_run(hf_model, tokenizer, chunk, max_tokens, repetition_penalty,
                                min_tokens))  # fmt: skip
                chunk = []
            chunk.append(item)
        if chunk:
            out.extend(_run(hf_model, tokenizer, chunk, max_tokens, repetition_penalty, min_tokens))
        return out

    key = (id(hf_model), max_tokens, min_tokens, repetition_penalty, batch_size)
    results = batcher_for(hf_model).run(items, key, mergeable=True, execute=execute)
    return [texts * copies for texts in results]


def _run(
    hf_model: Any,
    tokenizer: Any,
    chunk: list[_Prompt],
    max_tokens: int,
    repetition_penalty: float,
    min_tokens: int,
) -> list[list[str]]:
    """One ``generate`` call: each prompt prefilled once, then its ``n`` rows decoded."""
    import torch
    from transformers import DynamicCache, LogitsProcessorList

    tokenizer.padding_side = "left"
    enc = tokenizer([p.text for p in chunk], return_tensors="pt", padding=True,
                    add_special_tokens=False).to(hf_model.device)  # fmt: skip
    ids, mask = enc["input_ids"], enc["attention_mask"]
    owner = torch.tensor([i for i, p in enumerate(chunk) for _ in range(p.n)], device=ids.device)
    temperatures = [p.temperature for p in chunk for _ in range(p.n)]
    seeds = [_row_seed(p.seed, j) for p in chunk for j in range(p.n)]
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_tokens,
        "do_sample": False,
        "temperature": None,  # silence generation_config sampling defaults
        "top_p": None,
        "top_k": None,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if any(t > 0 for t in temperatures):
        kwargs["logits_processor"] = LogitsProcessorList([RowSampler(temperatures, seeds)])
    if repetition_penalty != 1.0:
        kwargs["repetition_penalty"] = repetition_penalty
    if min_tokens:
        kwargs["min_new_tokens"] = min_tokens
    with torch.inference_mode():
        if len(owner) > len(chunk) and ids.shape[1] >= 2:
            # prefill all but the last token once per prompt, then copy the cache per row
            # (positions counted from each row's first real token: rows are left-padded)
            cache, keyword = DynamicCache(), _cache_keyword(type(hf_model))
            positions = (mask[:, :-1].cumsum(-1) - 1).clamp(min=0)
            hf_model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=positions,
                     use_cache=True, **{keyword: cache})  # fmt: skip
            cache.reorder_cache(owner)
            kwargs[keyword] = cache
        generated = hf_model.generate(input_ids=ids[owner], attention_mask=mask[owner], **kwargs)
    decoded = tokenizer.batch_decode(generated[:, ids.shape[1] :], skip_special_tokens=True)
    out: list[list[str]] = []
    row = 0
    for p in chunk:
        out.append([d.strip() for d in decoded[row : row + p.n]])
        row += p.n
    return out


class TransformersBackend(GenerationBackend):
    """In-process transformers chat models (``ChatHuggingFace`` over a text-generation
    pipeline): concurrent requests merge into padded batches, each prompt prefilled once
    for its ``n`` rollouts (:func:`generate_local`). Text only."""

    name = "transformers"
    reads_images = False

    def matches(self, model: BaseChatModel) -> bool:
        return local_backend(model) is not None

    def generate(
        self, model: BaseChatModel, prompts: Prompts, request: GenerationRequest
    ) -> list[list[str]]:
        hf_model, tokenizer = _require(model)
        return generate_local(
            hf_model,
            tokenizer,
            prompts,
            n=request.n,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            seed=request.seed,
            batch_size=request.batch_size or self.batch_size(model),
            repetition_penalty=request.repetition_penalty,
            min_tokens=request.min_tokens,
        )

    def batch_size(self, model: BaseChatModel) -> int:
        """64 on a GPU and for bfloat16 weights on a CPU (on AMX a forward pass over 40
        sequences took 0.25 s, over one 0.1 s: the weights are read once per pass), 8 for
        float32 or int8 on a CPU."""
        hf_model, _ = _require(model)
        if str(getattr(hf_model, "device", "cpu")).startswith("cuda"):
            return 64
        if str(getattr(hf_model, "dtype", "")) == "torch.bfloat16":
            return 64
        return 8

    def count_prompt_tokens(
        self, model: BaseChatModel, messages: Sequence[BaseMessage]
    ) -> tuple[int, bool]:
        _, tokenizer = _require(model)
        ids = tokenizer.apply_chat_template(
            to_chat_dicts(messages), add_generation_prompt=True, tokenize=True
        )
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return len(ids), False

    def count_text_tokens(self, model: BaseChatModel, text: str) -> tuple[int, bool]:
        _, tokenizer = _require(model)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"]), False


def _require(model: BaseChatModel) -> tuple[Any, Any]:
    backend = local_backend(model)
    if backend is None:
        raise TypeError(f"{type(model).__name__} is not an in-process transformers model")
    return backend
