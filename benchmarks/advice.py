"""Can the student use advice at all? Hand-written lessons on problems of the dev pool.

    python benchmarks/advice.py --task tracking_shuffled_objects --tag state \\
        --lessons benchmarks/results/advice/lessons/tracking_shuffled_objects-state.txt

TED can only help a student that acts on what its prompt says. This script measures that
ceiling apart from the teacher: the student answers ``--dev`` problems of the dev pool (the
items between the training and the test split of ``benchmarks/conditions.py``; no training
or test item is read) alone, then with the lessons of ``--lessons`` (one per line, written
by hand for the measurement, never shipped) injected whole into every prompt, greedy, as
``ted_graph.evaluate`` serves them. It prints accuracy, the paired difference with its 95%
bootstrap interval, answers fixed and broken, and unparsed answers.

Each evaluation is saved under ``--out/<student>/<task>/`` and kept when the script runs
again (``alone-<from>-<to>.json`` is shared by every lesson set of a task and range).
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from conditions import dev_pool  # benchmarks/ is on the path when this file runs

from ted_graph import EvalResult, ExperienceLibrary, evaluate, load_chat_model

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--tag", required=True, help="a name for the lesson set")
    parser.add_argument("--lessons", type=Path, required=True, help="one lesson per line")
    parser.add_argument(
        "--dev", type=int, nargs=2, default=(40, 140), metavar=("FROM", "TO"),
        help="the slice of the dev pool (its first 40 validate conditions.py --dev-validation)",
    )  # fmt: skip
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--test", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "advice")
    args = parser.parse_args()
    lessons = [s.strip() for s in args.lessons.read_text().splitlines() if s.strip()]
    if not lessons:
        raise SystemExit(f"{args.lessons}: no lesson")
    pool = dev_pool(args.task, args.train, args.test, args.seed)
    lo, hi = args.dev
    if not 0 <= lo < hi <= len(pool):
        raise SystemExit(f"{args.task}: the dev pool holds {len(pool)} items, not {lo}:{hi}")
    problems = pool[lo:hi]
    out = args.out / args.student / args.task
    out.mkdir(parents=True, exist_ok=True)
    student = functools.cache(lambda: load_chat_model(args.student))  # loaded when needed

    def score(name: str, library: ExperienceLibrary | None) -> EvalResult:
        path = out / f"{name}-{lo}-{hi}.json"
        if path.exists():
            return EvalResult.load(path)
        result = evaluate(student(), problems, library=library, experiences="all", desc=name)
        result.save(path)
        return result

    alone = score("alone", None)
    library = ExperienceLibrary.in_memory()
    for text in lessons:
        library.add(text)
    advised = score(args.tag, library)
    summary = compare(alone, advised)
    summary.update(task=args.task, student=args.student, dev=[lo, hi], lessons=lessons)
    (out / f"{args.tag}-{lo}-{hi}.summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"{args.task} ({args.student}, dev {lo}:{hi}): alone {summary['alone']:.3f} "
        f"({summary['unparsed_alone']} unparsed), with {len(lessons)} lesson(s) "
        f"{summary['advised']:.3f} ({summary['unparsed_advised']} unparsed); "
        f"Δ {summary['delta']:+.3f} [{summary['low']:+.3f}, {summary['high']:+.3f}], "
        f"{summary['fixed']} wrong -> right, {summary['broken']} right -> wrong",
        flush=True,
    )


def compare(alone: EvalResult, advised: EvalResult) -> dict:
    """Accuracies, the paired difference and the answers that moved."""
    before = {p["id"]: p["correct"] for p in alone.predictions}
    after = advised.predictions
    a = [before[p["id"]] for p in after]
    b = [p["correct"] for p in after]
    delta, low, high = advised.compare(alone)
    return {
        "alone": alone.accuracy,
        "advised": advised.accuracy,
        "delta": delta,
        "low": low,
        "high": high,
        "fixed": sum(y and not x for x, y in zip(a, b, strict=True)),
        "broken": sum(x and not y for x, y in zip(a, b, strict=True)),
        "unparsed_alone": sum(p["prediction"] is None for p in alone.predictions),
        "unparsed_advised": sum(p["prediction"] is None for p in after),
    }


if __name__ == "__main__":
    main()
