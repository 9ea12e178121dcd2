"""Worked examples on the training splits: does a solved, similar problem help the student?

    python benchmarks/worked_examples.py [--tasks object_counting date_understanding] [-k 1]

Measured on training problems only (``split(..., train=40, test=150, seed=0)``'s training
part, the split of ``benchmarks/pairs.py`` and ``benchmarks/conditions.py``), so the
choice between lessons and worked examples is never made on test items:

1. the teacher answers every training problem under the student prompt, greedily; its
   right solutions become the library's worked examples (:mod:`ted_graph.library.examples`);
2. the student answers every training problem alone, then with the ``k`` worked examples
   of the most similar *other* problems in its prompt (leave-one-out: a problem never
   sees its own solution).

Per task it prints both accuracies, the paired difference with its 95% bootstrap interval,
parse rates and tokens per answer. Every evaluation is saved under
``--out/<task>/`` as it finishes and kept on a rerun (resumable).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ted_graph import EvalResult, ExperienceLibrary, evaluate, load_chat_model, load_dataset
from ted_graph.data import split
from ted_graph.library.examples import worked_solution

TASKS = ["object_counting", "date_understanding", "logical_deduction", "geometric_shapes",
         "tracking_shuffled_objects"]  # fmt: skip


def cached(path: Path, model: Any, problems: list, **kw: Any) -> EvalResult:
    """``evaluate(model, problems, **kw)``, saved at ``path``; kept when it exists."""
    if path.exists():
        return EvalResult.load(path)
    started = time.time()
    result = evaluate(model, problems, **kw)
    result.save(path)
    print(f"  {path.stem}: {result} [{time.time() - started:.0f}s]", flush=True)
    return result


def parsed(result: EvalResult) -> float:
    return sum(p["prediction"] is not None for p in result.predictions) / result.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--teacher", default="qwen2.5-coder-1.5b")
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("-k", type=int, default=1, help="worked examples per prompt")
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/worked_examples"))
    args = parser.parse_args()
    models: dict[str, Any] = {}

    def model(spec: str) -> Any:
        if spec not in models:
            models[spec] = load_chat_model(spec)
        return models[spec]

    rows = []
    for task in args.tasks:
        out = args.out / task
        out.mkdir(parents=True, exist_ok=True)
        train, _ = split(load_dataset(f"bigbench:{task}"), train=args.train, test=150, seed=0)
        print(f"[{task}] {len(train)} training problems", flush=True)
        teacher = cached(
            out / "teacher.json", model(args.teacher), train, max_tokens=args.max_tokens,
            desc="teacher",
        )  # fmt: skip
        library = ExperienceLibrary.in_memory()
        by_id = {p["id"]: p for p in train}
        for pred in teacher.predictions:
            solution = worked_solution(pred["response"], by_id[pred["id"]])
            if solution is not None:
                library.examples.add(by_id[pred["id"]], solution)
        print(f"  {len(library.examples)} worked examples (teacher right)", flush=True)
        alone = cached(
            out / "student.json", model(args.student), train, max_tokens=args.max_tokens,
            desc="student alone",
        )  # fmt: skip
        shown = cached(
            out / f"examples-k{args.k}.json", model(args.student), train, library=library,
            experiences="none", examples=args.k, max_tokens=args.max_tokens,
            desc="with examples",
        )  # fmt: skip
        diff, low, high = shown.compare(alone)
        row = {
            "task": task,
            "examples": len(library.examples),
            "teacher": teacher.accuracy,
            "alone": alone.accuracy,
            "with_examples": shown.accuracy,
            "diff": diff,
            "low": low,
            "high": high,
            "parsed_alone": parsed(alone),
            "parsed_with": parsed(shown),
            "tokens_alone": alone.completion_tokens / alone.total,
            "tokens_with": shown.completion_tokens / shown.total,
            "prompt_tokens_with": shown.prompt_tokens / shown.total,
        }
        (out / f"summary-k{args.k}.json").write_text(json.dumps(row, indent=1))
        rows.append(row)
    print(
        "| task | worked examples | teacher | student alone | with examples | Δ [95% CI] | "
        "parsed | tokens/answer | prompt tokens |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['task']} | {r['examples']} | {r['teacher']:.3f} | {r['alone']:.3f} | "
            f"{r['with_examples']:.3f} | {r['diff']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | "
            f"{r['parsed_alone']:.2f} → {r['parsed_with']:.2f} | "
            f"{r['tokens_alone']:.0f} → {r['tokens_with']:.0f} | {r['prompt_tokens_with']:.0f} |"
        )


if __name__ == "__main__":
    main()
