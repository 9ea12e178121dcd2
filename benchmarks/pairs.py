"""Student alone and teacher alone on the training split of every bundled task.

    python benchmarks/pairs.py [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--train 40]

Both models answer the same training problems (``split(..., train=N, test=150, seed=0)``,
the split ``benchmarks/conditions.py`` uses, so no test item is seen) under the student
prompt, greedily. The gap between them is what transfer can win; the quickstart's pair and
task are chosen from these numbers, never from test results. Per model and task it
reports accuracy with its interval, parse rate (an answer line was found), the share of
answers that show their steps (two or more numbered or separate lines before the answer)
and tokens per answer. Each (model, task) result is saved as it finishes
(``--out``/<model>/<task>.json) and skipped on a rerun.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from ted_graph import evaluate, load_chat_model, load_dataset
from ted_graph.data import split
from ted_graph.distillation.evaluation import EvalResult

TASKS = ["object_counting", "date_understanding", "logical_deduction", "geometric_shapes",
         "tracking_shuffled_objects"]  # fmt: skip


def shows_steps(response: str) -> bool:
    """Two or more lines of reasoning before the answer line."""
    body = re.split(r"(?im)^\s*answer\s*:", response)[0]
    lines = [line for line in body.splitlines() if line.strip()]
    return len(lines) >= 2


def summarize(result: EvalResult) -> dict[str, float]:
    preds = result.predictions
    n = len(preds)
    return {
        "accuracy": result.accuracy,
        "low": result.interval[0],
        "high": result.interval[1],
        "parsed": sum(p["prediction"] is not None for p in preds) / n,
        "steps": sum(shows_steps(p["response"]) for p in preds) / n,
        "tokens": sum(p["completion_tokens"] for p in preds) / n,
        "items": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pairs"))
    args = parser.parse_args()
    for spec in args.models:
        model = load_chat_model(spec)
        for task in args.tasks:
            path = args.out / spec / f"{task}.json"
            if path.exists():
                continue
            train, _ = split(load_dataset(f"bigbench:{task}"), train=args.train, test=150, seed=0)
            started = time.time()
            result = evaluate(model, train, max_tokens=args.max_tokens, desc=f"{spec} {task}")
            row = summarize(result) | {"seconds": round(time.time() - started, 1)}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(row, indent=2), encoding="utf-8")
            print(f"{spec} {task}: {json.dumps(row)}", flush=True)
    print_table(args.out, args.models, args.tasks)


def print_table(out: Path, models: list[str], tasks: list[str]) -> None:
    print("| task | " + " | ".join(models) + " |")
    print("|---|" + "---:|" * len(models))
    for task in tasks:
        cells = []
        for spec in models:
            path = out / spec / f"{task}.json"
            if not path.exists():
                cells.append("-")
                continue
            r = json.loads(path.read_text())
            cells.append(
                f"{r['accuracy']:.3f} [{r['low']:.2f}, {r['high']:.2f}]; parsed {r['parsed']:.2f}, "
                f"steps {r['steps']:.2f}, {r['tokens']:.0f} tok, {r['seconds']:.0f}s"
            )
        print(f"| {task} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
