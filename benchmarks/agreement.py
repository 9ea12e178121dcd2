"""Do the llama.cpp and transformers backends give the same answers? Greedy, 50 fixed items.

    python benchmarks/agreement.py [--models smollm2-135m qwen2.5-coder-0.5b] [--items 50]

Both backends load the same packaged GGUF weights: llama.cpp runs them quantized, as
shipped; transformers runs them dequantized to float32 (``quantize="none"``), the
reference. Each item of the fixed set (the first ``--items`` of a seeded shuffle of the
bundled ``object_counting`` and ``logical_deduction`` tasks, half each) gets the student
prompt TED uses, is decoded greedily, and its answer extracted. Reported: how many
extracted answers agree, accuracy under each backend, and the wall time of each.
With ``--requantize q4_0`` a third column runs the requantized llama.cpp weights.
``--placements`` runs the shipped weights once per llama.cpp weight placement
(:mod:`ted_graph.models.llamacpp_cpu`); with ``--skip-transformers`` (the float32 1.5B is
slow on a CPU) the first placement is the reference the others are compared with.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ted_graph.answers import extract_answer, is_correct
from ted_graph.data import load_dataset, split
from ted_graph.library.prompting import student_messages
from ted_graph.models import generate, load_llamacpp_chat_model, load_local_chat_model
from ted_graph.models.llamacpp_cpu import PLACEMENTS


def fixed_items(count: int) -> list[dict[str, Any]]:
    items = []
    for task in ("object_counting", "logical_deduction"):
        _, test = split(load_dataset(f"bigbench:{task}"), train=0, seed=0)
        items += test[: count // 2]
    return items


def answers(model: Any, items: list[dict[str, Any]], max_tokens: int) -> tuple[list[Any], float]:
    prompts = [student_messages(p) for p in items]
    start = time.perf_counter()
    outputs = generate(model, prompts, max_tokens=max_tokens, batch_size=8)
    seconds = time.perf_counter() - start
    return [
        extract_answer(o[0], p.get("choices")) for o, p in zip(outputs, items, strict=True)
    ], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--requantize", choices=["q4_0", "q8_0"])
    parser.add_argument("--placements", nargs="+", choices=PLACEMENTS, default=["auto"])
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/agreement.json"))
    args = parser.parse_args()
    items = fixed_items(args.items)
    report: dict[str, Any] = {"items": [p["id"] for p in items], "models": {}}

    def llamacpp_name(placement: str) -> str:
        return "llama.cpp" if args.placements == ["auto"] else f"llama.cpp {placement}"

    reference_name = (
        llamacpp_name(args.placements[0]) if args.skip_transformers else "transformers fp32"
    )
    report["reference"] = reference_name
    print(f"| model | backend | accuracy | agrees with {reference_name} | seconds |")
    print("|---|---|---:|---:|---:|")
    for spec in args.models:
        backends: dict[str, Any] = {}
        if not args.skip_transformers:
            backends["transformers fp32"] = load_local_chat_model(spec, quantize="none")
        for placement in args.placements:
            backends[llamacpp_name(placement)] = load_llamacpp_chat_model(spec, placement=placement)
        if args.requantize:
            backends[f"llama.cpp {args.requantize}"] = load_llamacpp_chat_model(
                spec, quantization=args.requantize
            )
        results = {name: answers(model, items, args.max_tokens) for name, model in backends.items()}
        reference = results[reference_name][0]
        report["models"][spec] = {}
        for name, (preds, seconds) in results.items():
            correct = sum(
                is_correct(a, p["answer"], p.get("choices"))
                for a, p in zip(preds, items, strict=True)
            )
            agree = sum(a == b for a, b in zip(preds, reference, strict=True))
            report["models"][spec][name] = {
                "predictions": preds,
                "correct": correct,
                "agree": agree,
                "seconds": round(seconds, 1),
            }
            total = len(items)
            print(f"| {spec} | {name} | {correct}/{total} | {agree}/{total} | {seconds:.0f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
