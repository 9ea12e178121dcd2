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

``--keep`` then makes the finished run serve the version these scores keep, by the rule
:class:`ted_graph.distillation.selection.BestVersion` applies during a run (the best, the earliest
among
equals, the empty library unless a version beats the student alone): it rewrites the
run's ``run/experiences.json`` and validation report (the run's own report is kept in
``roles.json`` under ``revalidated``) and removes the run's test evaluations, which
``python benchmarks/conditions.py --tasks <task> --stages ted`` then makes again. A run's
library evolves the same whatever its validation scores (the best version is put back only
when the run ends), so this is the run it would have been with these problems as its
validation split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conditions import dev_pool  # benchmarks/ is on the path when this file runs

from ted_graph import EvalResult, ExperienceLibrary, evaluate, load_chat_model
from ted_graph.config import DistillConfig
from ted_graph.distillation.selection import BestVersion, ValidationReport
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
    parser.add_argument(
        "--keep",
        action="store_true",
        help="make the run serve the version these scores keep (its test evaluations are "
        "then redone by conditions.py --stages ted)",
    )
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
    versions: list[tuple[int, list[dict], float]] = []  # (step, records, accuracy)
    exports = sorted(run.glob("snapshots/step-*.json"), key=step_of)
    for export in [e for e in exports if not e.name.endswith(".record.json")]:
        records = json.loads(export.read_text())["experiences"]
        texts = tuple(sorted(e["text"] for e in records))
        if texts not in seen:
            library = ExperienceLibrary.in_memory()
            library.import_json(export)
            seen[texts] = score(export.stem, library)
        result = seen[texts]
        versions.append((step_of(export), records, result.accuracy))
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
    if args.keep:
        command = f"python benchmarks/versions.py --task {args.task} --dev {args.dev} --keep"
        report = keep(run, len(problems), alone.accuracy, versions, command)
        print(report.summary(), flush=True)
        print(
            f"run `python benchmarks/conditions.py --tasks {args.task} --stages ted` "
            "to evaluate the kept version on the test split",
            flush=True,
        )


def step_of(export: Path) -> int:
    return int(export.stem.split("-")[1].split(".")[0])


def keep(
    run: Path,
    problems: int,
    without: float,
    versions: list[tuple[int, list[dict], float]],
    command: str,
) -> ValidationReport:
    """Make the finished run ``run`` serve the version that ``versions`` (each step's
    records and accuracy, in step order) keep against the student alone (``without``)."""
    result_path = run / "run" / "result.json"
    if not result_path.exists():
        raise SystemExit(f"{run}: the run has not finished (no run/result.json)")
    library = ExperienceLibrary.in_memory()
    accuracy = {"now": without}  # what BestVersion's score sees for the library as it is
    best = BestVersion(library, lambda _library: accuracy["now"], problems)
    best.start()
    for step, records, score in versions:
        library.restore(records)
        accuracy["now"] = score
        best.after_step(step)
    report = best.finish()
    result = json.loads(result_path.read_text())
    roles_path = run / "roles.json"
    roles = json.loads(roles_path.read_text()) if roles_path.exists() else {}
    earlier = roles.get("revalidated", {}).get("earlier", result.get("validation"))
    roles["revalidated"] = {"problems": problems, "command": command, "earlier": earlier}
    result["validation"] = report.to_dict()
    library.export_json(run / "run" / "experiences.json")
    result_path.write_text(json.dumps(result, indent=2))
    roles_path.write_text(json.dumps(roles))
    for name in ("ted-retrieved", "ted-all"):  # evaluations of the earlier version
        for suffix in (".json", ".derived.json"):
            (run.parent / f"{name}{suffix}").unlink(missing_ok=True)
    return report


if __name__ == "__main__":
    main()
