"""Every library version of a TED run, scored on problems that are neither training nor test.

    python benchmarks/versions.py --task geometric_shapes --dev 40

``benchmarks/conditions.py`` takes its training problems from the start of a seeded
shuffle and its test items from the end; the items between (the dev pool) are never read
there. A distillation keeps the library version that scores best on its validation split
(10 of the training problems by default), and 10 problems tell little: a version that fixes
one wrong answer in six cannot show that on them. This script asks what a larger
validation split would have kept: the student answers ``--dev`` problems of the pool
alone and with each step's snapshot of the run (``ted/snapshots/step-N.json``, retrieved as
in serving, greedy), and each version's paired difference from the student alone is
printed with its 95% bootstrap interval. No test item is read, so what it shows may change
the design (how large the validation split is, where it comes from).

Each evaluation is saved when complete under ``--out/<task>/`` and kept when the script
runs again, so it resumes version by version.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conditions import dev_pool  # benchmarks/ is on the path when this file runs

from ted_graph import EvalResult, ExperienceLibrary, evaluate, load_chat_model
from ted_graph.config import DistillConfig
from ted_graph.stats import paired_bootstrap

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--dev", type=int, default=40, help="problems of the dev pool")
    parser.add_argument("--pair", default="qwen")
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--test", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "versions")
    args = parser.parse_args()
    run = HERE / "results" / "conditions" / args.pair / args.task / "ted"
    pool = dev_pool(args.task, args.train, args.test, args.seed)
    if len(pool) < args.dev:
        raise SystemExit(f"{args.task}: the dev pool holds {len(pool)} items, not {args.dev}")
    problems = pool[: args.dev]
    out = args.out / args.pair / args.task
    out.mkdir(parents=True, exist_ok=True)
    cfg = DistillConfig()
    student = load_chat_model(args.student)

    def score(name: str, library: ExperienceLibrary | None) -> EvalResult:
        path = out / f"{name}.json"
        if path.exists():
            return EvalResult.load(path)
        result = evaluate(
            student, problems, library=library, k=cfg.k, min_similarity=cfg.min_similarity,
            max_experience_tokens=cfg.max_experience_tokens, max_tokens=cfg.student_max_tokens,
            desc=name,
        )  # fmt: skip
        result.save(path)
        return result

    alone = score("alone", None)
    right = [p["correct"] for p in alone.predictions]
    rows = [{"version": "alone", "size": 0, "accuracy": alone.accuracy}]
    print(f"alone: {alone.accuracy:.3f} on {len(problems)} dev problems", flush=True)
    seen: dict[tuple[str, ...], EvalResult] = {(): alone}
    exports = sorted(
        run.glob("snapshots/step-*.json"),
        key=lambda p: int(p.stem.split("-")[1].split(".")[0]),
    )
    for export in [e for e in exports if not e.name.endswith(".record.json")]:
        texts = tuple(sorted(e["text"] for e in json.loads(export.read_text())["experiences"]))
        if texts not in seen:
            library = ExperienceLibrary.in_memory()
            library.import_json(export)
            seen[texts] = score(export.stem, library)
        result = seen[texts]
        delta, low, high = paired_bootstrap(right, [p["correct"] for p in result.predictions])
        rows.append({
            "version": export.stem, "size": len(texts), "accuracy": result.accuracy,
            "delta": delta, "low": low, "high": high,
        })  # fmt: skip
        print(
            f"{export.stem} ({len(texts)} lessons): {result.accuracy:.3f}, "
            f"Δ {delta:+.3f} [{low:+.3f}, {high:+.3f}]",
            flush=True,
        )
    summary = {"task": args.task, "dev": len(problems), "student": args.student, "rows": rows}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
