"""Generation speed, side by side: our llama.cpp engine, llama.cpp itself, plain transformers.

    python benchmarks/inference.py --llama-cpp-bin /path/to/llama.cpp/build/bin

For each model, on the same GGUF weights and the same synthetic prompts (``--prompt-tokens``
token ids, ``--new-tokens`` generated, end-of-sequence suppressed), it measures tokens/s for
batches of 1, 4, 16 and 64 sequences:

* **ours**: :class:`ted_graph.models.llamacpp_engine.LlamaEngine`, the backend behind
  ``load_chat_model("llamacpp:...")``, with every sequence submitted as its own request;
* **llama.cpp**: the reference, its own ``llama-batched-bench`` tool built from the llama.cpp
  sources that llama-cpp-python vendors (skipped without ``--llama-cpp-bin``);
* **transformers**: on the same weights dequantized (``quantize="none"``), in each of
  ``--transformers-dtypes`` (float32; bfloat16, which AMX CPUs multiply on their tile units).

``--quantizations`` runs the llama.cpp backends on the GGUF as shipped (``native``) and on
copies requantized once by llama.cpp (``q4_0``, ``q8_0``). ``--placements`` runs "ours"
with each weight placement of :mod:`ted_graph.models.llamacpp_cpu` (``repack``: AMX off,
REPACK kept; ``plain``: no extra buffer types; ``llama.cpp``: its own choice, AMX first).
A placement is first tried in a child process: one that crashes there (llama.cpp's AMX
path on some AMX machines) is reported with its signal instead of killing the benchmark.

``--temperature`` above 0 samples instead (each sequence its own seed, top-p 0.95 and
``--top-k``, default 64 as the engine's own default; 0 turns top-k off). llama.cpp's tool
always decodes greedily, so compare sampled runs with each other.

Reported per batch: decode tokens/s (generation steps only), prefill tokens/s, and
end-to-end generated tokens/s (``batch * new_tokens / wall time``, prefill included). The
machine is noisy, so the backends are run in turns ``--repeats`` times and medians kept.

**The compute ceiling.** Each run also times a 2048x2048 bfloat16 matrix product in torch
(the best of five) and reports every prefill rate as a share of the rate that product
allows: ``ceiling tok/s = matmul FLOP/s / (2 * weights multiplied per token)``, counting
the model's matrix weights (its linear layers and output head, not the embedding lookup).

**The public API.** Last, each model is loaded as a user loads it
(``load_chat_model(spec)``, every default) and asked for one new token after a prompt of
about ``--api-prompt-tokens`` tokens (the best of three calls): the prefill rate a
distillation run gets, and its share of the ceiling.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ted_graph.models.cpu import on_compute_thread
from ted_graph.models.llamacpp import requantize
from ted_graph.models.llamacpp_engine import LlamaEngine, SamplingParams
from ted_graph.models.registry import resolve_gguf


def crashes(path: str, placement: str) -> int | None:
    """The signal that kills a tiny generation with ``placement`` in a child process."""
    code = (
        "import sys; from ted_graph.models.llamacpp_engine import LlamaEngine, SamplingParams;"
        "e = LlamaEngine(sys.argv[1], n_ctx=512, n_parallel=1, placement=sys.argv[2]);"
        "e.generate([list(range(1000, 1100))], 1, SamplingParams(max_tokens=4)); e.close()"
    )
    run = subprocess.run([sys.executable, "-c", code, path, placement], capture_output=True)
    return -run.returncode if run.returncode < 0 else (None if run.returncode == 0 else 0)


def bench_ours(
    path: str,
    batches: list[int],
    prompt: int,
    new: int,
    placement: str | None = None,
    temperature: float = 0.0,
    top_k: int = SamplingParams.top_k,
) -> dict[int, dict[str, float]]:
    top = max(batches)
    engine = LlamaEngine(
        path, n_parallel=top, n_ctx=top * (prompt + new) + 256, placement=placement
    )
    tokens = list(range(1000, 1000 + prompt))
    params = SamplingParams(max_tokens=new, min_tokens=new, temperature=temperature, top_k=top_k)
    engine.generate([tokens], 1, SamplingParams(max_tokens=2, min_tokens=2))  # warm up
    results = {}
    for batch in batches:
        before = dataclasses.replace(engine.stats)
        start = time.perf_counter()
        futures = [  # one request per sequence, each with its own seed
            engine.submit(tokens, 1, dataclasses.replace(params, seed=i)) for i in range(batch)
        ]
        for future in futures:
            future.result()
        wall = time.perf_counter() - start
        work = engine.stats.since(before)
        results[batch] = {
            "decode": work.decode_tokens / work.decode_seconds,
            "prefill": work.prefill_tokens / work.prefill_seconds,
            "end_to_end": batch * new / wall,
        }
    engine.close()
    return results


def bench_llamacpp(
    binary: Path, path: str, batches: list[int], prompt: int, new: int, threads: int
) -> dict[int, dict[str, float]]:
    command = [
        str(binary / "llama-batched-bench"),
        "-m", path,
        "-c", str(max(batches) * (prompt + new) + 256),
        "-b", "2048", "-ub", "512",
        "-npp", str(prompt), "-ntg", str(new),
        "-npl", ",".join(map(str, batches)),
        "-t", str(threads), "-no-kvu",
        "--output-format", "jsonl",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    results = {}
    for line in run.stdout.splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        batch = int(row["pl"])
        results[batch] = {
            "decode": float(row["speed_tg"]),
            "prefill": float(row["speed_pp"]),
            "end_to_end": batch * new / float(row["t"]),
        }
    return results


SENTENCE = "The quick brown fox jumps over the lazy dog while the farmer counts sheep. "


def bench_api(spec: str, tokens: int) -> dict[str, float]:
    """Prefill through the public API: ``load_chat_model(spec)`` with every default, one new
    token after a prompt of about ``tokens`` tokens (the best of three calls)."""
    from langchain_core.messages import HumanMessage

    from ted_graph.models import load_chat_model

    model = load_chat_model(spec)
    message = [HumanMessage(SENTENCE * max(1, tokens // 15))]  # ~15 tokens a sentence
    engine = getattr(model, "engine", None)
    model.invoke([HumanMessage("Hi")], max_tokens=1)  # load and warm up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.invoke(message, max_tokens=1)
        best = min(best, time.perf_counter() - start)
    n = len(model.prompt_tokens(message)) if hasattr(model, "prompt_tokens") else tokens
    return {
        "prompt_tokens": n,
        "seconds": best,
        "prefill": n / best,
        "placement": getattr(engine, "placement", None),
    }


def matmul_gflops() -> float:
    """torch's bfloat16 matrix-product rate here: the best of five 2048x2048 products."""
    import torch

    a = torch.randn(2048, 2048, dtype=torch.bfloat16)
    b = torch.randn(2048, 2048, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


def matrix_weights(spec: str) -> int:
    """Weights a token is multiplied with: the linear layers and the output head."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from ted_graph.models.registry import resolve_weights

    config = AutoConfig.from_pretrained(resolve_weights(spec))
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    if not any(isinstance(m, torch.nn.Linear) and m is model.get_output_embeddings()
               for m in model.modules()):  # fmt: skip
        linear += model.get_input_embeddings().weight.numel()
    return int(linear)


def bench_transformers(
    spec: str, batches: list[int], prompt: int, new: int, dtype: str = "float32"
) -> dict[int, dict[str, float]]:
    import torch

    from ted_graph.models import load_local_chat_model
    from ted_graph.models.local import local_backend

    model, tokenizer = local_backend(load_local_chat_model(spec, quantize="none", dtype=dtype))
    common = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    common["pad_token_id"] = tokenizer.pad_token_id

    def run(batch: int, tokens: int) -> float:
        ids = torch.arange(1000, 1000 + prompt).repeat(batch, 1)
        start = time.perf_counter()
        with torch.inference_mode():
            model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=tokens,
                min_new_tokens=tokens,
                **common,
            )
        return time.perf_counter() - start

    run(1, 2)  # warm up
    results = {}
    for batch in batches:
        first = run(batch, 1)  # prefill and one token
        wall = run(batch, new)
        results[batch] = {
            "decode": batch * (new - 1) / max(wall - first, 1e-9),
            "prefill": batch * prompt / first,
            "end_to_end": batch * new / wall,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--llama-cpp-bin", type=Path, default=os.environ.get("LLAMA_CPP_BIN"))
    parser.add_argument("--quantizations", nargs="+", default=["native", "q4_0"])
    parser.add_argument(
        "--placements", nargs="+", default=["repack", "plain", "llama.cpp"],
        help="llama.cpp weight placements for 'ours' (ted_graph.models.llamacpp_cpu)",
    )  # fmt: skip
    parser.add_argument(
        "--temperature", type=float, default=0.0,
        help="0 decodes greedily; above 0 each sequence samples with its own seed",
    )  # fmt: skip
    parser.add_argument(
        "--top-k", type=int, default=SamplingParams.top_k,
        help="sampled runs: candidates kept before the top-p cut (0: all)",
    )  # fmt: skip
    parser.add_argument(
        "--api-prompt-tokens", type=int, default=1000,
        help="prompt length of the public-API prefill measurement (0 skips it)",
    )  # fmt: skip
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument(
        "--transformers-dtypes", nargs="+", default=["float32", "bfloat16"],
        choices=["float32", "bfloat16"],
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/inference.json"))
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    print(
        f"machine: {platform.machine()}, {threads} cores; prompt {args.prompt_tokens} tokens, "
        f"{args.new_tokens} new tokens, median of {args.repeats}, "
        + (
            f"sampled (temperature {args.temperature}, top-k {args.top_k}, top-p 0.95)"
            if args.temperature > 0
            else "greedy"
        ),
        flush=True,
    )
    import llama_cpp

    from ted_graph.models.llamacpp_cpu import build_features

    features = sorted(k for k, on in build_features(llama_cpp).items() if on)
    print(f"llama.cpp build: {' '.join(features)}", flush=True)
    # torch's OpenMP work on the thread that runs llama.cpp's, so that the process holds
    # one pool of OpenMP workers and ggml's barriers spin (ted_graph.models.cpu)
    gflops = on_compute_thread(matmul_gflops)
    print(f"torch bfloat16 matmul: {gflops:.0f} GFLOP/s (the compute ceiling)", flush=True)
    report: dict[str, Any] = {
        "machine": platform.platform(), "cores": threads, "llama_cpp_features": features,
        "matmul_gflops": gflops,
        "prompt_tokens": args.prompt_tokens, "new_tokens": args.new_tokens,
        "repeats": args.repeats, "temperature": args.temperature,
        "top_k": args.top_k if args.temperature > 0 else None, "models": {},
    }  # fmt: skip
    for spec in args.models:
        native = resolve_gguf(spec)
        paths = {q: native if q == "native" else requantize(native, q) for q in args.quantizations}
        runs: dict[str, list[dict[int, dict[str, float]]]] = {}
        crashed: dict[str, int] = {}
        for quant, path in paths.items():
            for placement in args.placements:
                signal = crashes(path, placement)
                if signal is not None:
                    crashed[f"ours {quant} {placement}"] = signal
                    print(f"{spec} {quant} {placement}: crashed (signal {signal})", flush=True)
        for repeat in range(args.repeats):
            for quant, path in paths.items():
                for placement in args.placements:
                    name = f"ours {quant} {placement}"
                    if name not in crashed:
                        runs.setdefault(name, []).append(
                            bench_ours(path, args.batches, args.prompt_tokens,
                                       args.new_tokens, placement, args.temperature,
                                       args.top_k)
                        )  # fmt: skip
                if args.llama_cpp_bin:
                    runs.setdefault(f"llama.cpp {quant}", []).append(
                        bench_llamacpp(
                            args.llama_cpp_bin,
                            path,
                            args.batches,
                            args.prompt_tokens,
                            args.new_tokens,
                            threads,
                        )
                    )
            if not args.skip_transformers and repeat == 0:  # slow and steady: once
                for dtype in args.transformers_dtypes:
                    name = {"float32": "transformers fp32", "bfloat16": "transformers bf16"}
                    runs.setdefault(name[dtype], []).append(
                        on_compute_thread(bench_transformers, spec, args.batches,
                                          args.prompt_tokens, args.new_tokens, dtype)
                    )  # fmt: skip
            print(f"{spec}: repeat {repeat + 1} done", flush=True)
        medians = {
            backend: {
                batch: {
                    key: statistics.median(r[batch][key] for r in rs)
                    for key in ("decode", "prefill", "end_to_end")
                }
                for batch in args.batches
            }
            for backend, rs in runs.items()
        }
        files = {q: Path(p).name for q, p in paths.items()}
        weights = matrix_weights(spec)
        ceiling = gflops * 1e9 / (2 * weights)
        for rows in medians.values():
            for row in rows.values():
                row["prefill_share"] = row["prefill"] / ceiling
        report["models"][spec] = {
            "gguf": files, "medians": medians, "crashed": crashed,
            "matrix_weights": weights, "ceiling_tok_s": ceiling,
        }  # fmt: skip
        print_table(spec, files, medians, args.batches)
        print(f"compute ceiling: {ceiling:.0f} tok/s ({weights / 1e6:.0f}M matrix weights)")
        if args.api_prompt_tokens > 0:
            # on this thread: load_chat_model's engines run on the compute thread themselves
            api = bench_api(spec, args.api_prompt_tokens)
            api["prefill_share"] = api["prefill"] / ceiling
            report["models"][spec]["api"] = api
            print(
                f"public API (load_chat_model({spec!r}), placement {api['placement']}): "
                f"{api['prompt_tokens']} prompt tokens in {api['seconds']:.2f} s = "
                f"{api['prefill']:.0f} tok/s prefill ({api['prefill_share']:.0%} of the ceiling)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


def print_table(
    spec: str,
    files: dict[str, str],
    medians: dict[str, dict[int, dict[str, float]]],
    batches: list[int],
) -> None:
    print(f"\n{spec} ({files}): decode tok/s / end-to-end tok/s / prefill tok/s (share of "
          "the compute ceiling)")  # fmt: skip
    print("| backend | " + " | ".join(f"{b} seq" for b in batches) + " |")
    print("|---|" + "---:|" * len(batches))
    for backend, rows in medians.items():
        cells = [
            f"{rows[b]['decode']:.1f} / {rows[b]['end_to_end']:.1f} / {rows[b]['prefill']:.0f}"
            + (f" ({rows[b]['prefill_share']:.0%})" if "prefill_share" in rows[b] else "")
            for b in batches
        ]
        print(f"| {backend} | " + " | ".join(cells) + " |")
    print("\nratios (decode / end-to-end):")
    for ours in (k for k in medians if k.startswith("ours ")):
        quant = ours.removeprefix("ours ").split()[0]
        others = [f"llama.cpp {quant}", "transformers fp32", "transformers bf16"]
        for other in (o for o in others if o in medians):
            ratios = [
                f"{medians[ours][b]['decode'] / medians[other][b]['decode']:.2f}x / "
                f"{medians[ours][b]['end_to_end'] / medians[other][b]['end_to_end']:.2f}x"
                for b in batches
            ]
            print(f"| {ours} vs {other} | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
