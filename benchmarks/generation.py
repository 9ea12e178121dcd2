"""Local generation speed: float32 vs int8 dynamic quantization, 1 and 4 sequences.

    python benchmarks/generation.py [--models smollm2-135m qwen2.5-coder-0.5b] [--tokens 64]

Loads each packaged model in float32 with ``quantize="none"`` and with ``quantize="int8"``,
and times greedy generation of exactly ``--tokens`` new tokens for one sequence and for
four (the same prompt four times, one padded batch). These numbers set the CPU defaults.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ted_graph.models import load_local_chat_model
from ted_graph.models.local import local_backend

PROMPT = (
    "On a shelf there are three books: purple, red and yellow. The purple book is to the "
    "right of the yellow book. The yellow book is to the right of the red book. Which book "
    "is the leftmost? Explain step by step, then write 'Answer: X'."
)


def tokens_per_second(hf_model, tokenizer, batch: int, tokens: int) -> float:
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, tokenize=False
    )
    enc = tokenizer([text] * batch, return_tensors="pt", padding=True, add_special_tokens=False)
    kwargs = dict(
        max_new_tokens=tokens,
        min_new_tokens=tokens,
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.inference_mode():
        hf_model.generate(**enc, **{**kwargs, "max_new_tokens": 4, "min_new_tokens": 4})
        start = time.perf_counter()
        hf_model.generate(**enc, **kwargs)
        return batch * tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "smollm2-135m"])
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}; greedy, exactly {args.tokens} new tokens"
    )
    print("| model | float32, 1 seq | int8, 1 seq | float32, 4 seqs | int8, 4 seqs |")
    print("|---|---:|---:|---:|---:|")
    for spec in args.models:
        speeds = {}
        for quantize in ("none", "int8"):
            hf_model, tokenizer = local_backend(load_local_chat_model(spec, quantize=quantize))
            for batch in (1, 4):
                speeds[quantize, batch] = tokens_per_second(hf_model, tokenizer, batch, args.tokens)
        print(
            f"| {spec} | {speeds['none', 1]:.1f} tok/s | {speeds['int8', 1]:.1f} tok/s | "
            f"{speeds['none', 4]:.1f} tok/s | {speeds['int8', 4]:.1f} tok/s |"
        )


if __name__ == "__main__":
    main()
