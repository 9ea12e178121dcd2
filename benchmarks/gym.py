"""Does TED make the student better? reasoning-gym tasks, fresh items, every condition.

    python benchmarks/gym.py --stage pools                 # training pools: pick tasks, difficulty
    python benchmarks/gym.py --tasks time_intervals        # every test stage of one task
    python benchmarks/gym.py --tasks time_intervals --stages student ted
    python benchmarks/gym.py --report                      # tables into BENCHMARKS.md

Items come from reasoning-gym's seeded generators (``ted_graph.gym``), graded by each
task's own scorer. Per task three disjoint pools are drawn: training (``--train`` items,
seed 7), validation (``--validation``, seed 11) and test (``--test``, seed 1001, with any
question repeated from the other two dropped). The task list, each task's difficulty and
the pair are fixed in ``TASKS`` below from the training pools (``--stage pools``) before any
test item is read. Conditions, all on the same test items and the same student, greedy:

  student     the student alone
  ted         distil with the defaults (verification on, the validation pool choosing the
              kept library version), then answer with retrieved experiences
  ted-all     the same library, every experience in every prompt (Training-Free GRPO)
  unverified  distil with verify=False (the paper's path), retrieved experiences
  teacher     the teacher alone with the student's prompt (the ceiling)

Every stage writes ``benchmarks/results/gym/<task>/<stage>.json`` and is skipped when it
exists, so an interrupted run resumes where it stopped (a distillation also keeps its
library and ``result/`` folder). ``--report`` writes the table between the ``gym`` markers
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from pathlib import Path
from typing import Any

from ted_graph import EvalResult, ExperienceLibrary, distill, evaluate, load_dataset
from ted_graph.data import disjoint
from ted_graph.library import format_table
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER, load_chat_model

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "results" / "gym"
SEEDS = {"train": 7, "validation": 11, "test": 1001}
#: Tasks of the benchmark and their config (difficulty), chosen on the training pools.
TASKS: dict[str, str] = {
    "time_intervals": "",
    "letter_counting": "",
    "family_relationships": "",
    "number_format": "",
    "word_sorting": "",
    "basic_arithmetic": "",
}
#: Every task the pools stage measures (issue 37's list for development).
CANDIDATES = (
    "time_intervals", "letter_counting", "word_sorting", "number_format", "leg_counting",
    "family_relationships", "basic_arithmetic", "chain_sum", "decimal_chain_sum", "count_bits",
    "calendar_arithmetic", "number_sorting", "fraction_simplification", "products",
    "string_manipulation",
)  # fmt: skip
STAGES = ("student", "ted", "ted-all", "unverified", "teacher")
MAX_TOKENS = 320


def spec(task: str, pool: str, size: int) -> str:
    config = TASKS.get(task, "")
    return f"reasoning-gym:{task}?size={size}&seed={SEEDS[pool]}{'&' + config if config else ''}"


def pools(task: str, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    train = load_dataset(spec(task, "train", args.train))
    val = load_dataset(spec(task, "validation", args.validation))
    # draw a few more than needed: repeated questions are dropped, then the first --test kept
    test = disjoint(load_dataset(spec(task, "test", args.test + 50)), train, val)[: args.test]
    if len(test) < args.test:
        raise SystemExit(f"{task}: only {len(test)} test items differ from the other pools")
    return {"train": train, "validation": val, "test": test}


def answered(result: EvalResult) -> float:
    """Share of responses that state an answer (a marker or a bare short answer)."""
    from ted_graph.answers import extract_answer

    rows = result.predictions
    return sum(extract_answer(p["response"]) is not None for p in rows) / max(1, len(rows))


def write(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")


def run_eval(model: Any, items: list, path: Path, desc: str, **kw: Any) -> EvalResult:
    if path.exists():
        return EvalResult.load(path)
    result = evaluate(model, items, max_tokens=MAX_TOKENS, desc=desc, **kw)
    result.save(path)
    print(f"  {desc}: {result}", flush=True)
    return result


def stage_pools(args: argparse.Namespace, models: dict[str, Any]) -> None:
    """Student and teacher alone on each candidate's training pool: accuracy, parse rate."""
    for task in args.tasks or CANDIDATES:
        items = load_dataset(spec(task, "train", args.train))
        for who in ("student", "teacher"):
            path = OUT / "pools" / f"{task}-{who}.json"
            result = run_eval(models[who], items, path, f"{task} pool, {who}")
            summary = {**result.summary(), "answered": answered(result)}
            print(json.dumps({"task": task, "who": who, **summary}), flush=True)


def distilled(task: str, name: str, data: dict, models: dict, **settings: Any) -> Path:
    """Distil the training pool into ``<task>/<name>-library`` once (resumable)."""
    folder = OUT / task
    library_dir = folder / f"{name}-library"
    done = folder / f"{name}-distill.json"
    if done.exists():
        if not library_dir.exists():  # a fresh clone: the library from its saved export
            ExperienceLibrary(library_dir).import_json(
                folder / f"{name}-result" / "experiences.json"
            )
        return library_dir
    checkpoint = folder / f"{name}-library" / "checkpoint.sqlite"
    if not checkpoint.exists():  # no run to resume: start from an empty library
        shutil.rmtree(library_dir, ignore_errors=True)
    library = ExperienceLibrary(library_dir)
    started = time.time()
    result = distill(
        models["student"],
        models["teacher"],
        data["train"],
        library=library,
        valset=data["validation"],
        checkpointer=checkpoint,  # an interrupted run goes on from its last finished step
        **settings,
    )
    result.save(folder / f"{name}-result")
    write(
        done,
        {
            "seconds": round(time.time() - started, 1),
            "summary": result.summary(),
            "usage": result.usage,
            "settings": settings,
            "library": [e.text for e in library.all()],
            "cpu": platform.processor() or platform.machine(),
        },
    )
    print(f"  {task} {name}: {result.summary()}\n{format_table(library.all())}", flush=True)
    return library_dir


def run_task(task: str, args: argparse.Namespace, models: dict[str, Any]) -> None:
    data = pools(task, args)
    folder = OUT / task
    print(f"[{task}] train {len(data['train'])}, validation {len(data['validation'])}, "
          f"test {len(data['test'])}", flush=True)  # fmt: skip
    settings = {"epochs": args.epochs, "n": args.n}
    for stage in args.stages:
        path = folder / f"{stage}.json"
        if path.exists():
            continue
        if stage == "student":
            run_eval(models["student"], data["test"], path, f"{task} student alone")
        elif stage == "teacher":
            run_eval(models["teacher"], data["test"], path, f"{task} teacher alone")
        elif stage in ("ted", "ted-all"):
            library = ExperienceLibrary(distilled(task, "ted", data, models, **settings))
            mode = "retrieved" if stage == "ted" else "all"
            run_eval(models["student"], data["test"], path, f"{task} {stage}", library=library,
                     experiences=mode)  # fmt: skip
        elif stage == "unverified":
            library = ExperienceLibrary(
                distilled(task, "unverified", data, models, verify=False, **settings)
            )
            run_eval(models["student"], data["test"], path, f"{task} unverified", library=library)


LABELS = {
    "ted": "TED, retrieved",
    "ted-all": "TED, all injected",
    "unverified": "TED unverified, retrieved",
    "teacher": "teacher alone",
}


def report_rows(task: str) -> list[str]:
    """One table row per condition of a task that has results, against the student alone."""
    folder = OUT / task
    if not (folder / "student.json").exists():
        return []
    alone = EvalResult.load(folder / "student.json")
    per = alone.per_item()
    rows = [
        f"| {task} | student alone | {alone.accuracy:.3f} ({alone.correct}/{alone.total}) | | "
        f"{answered(alone):.2f} | {per['completion_tokens']:.0f} | {per['seconds']:.2f} | |"
    ]
    for stage, label in LABELS.items():
        path = folder / f"{stage}.json"
        if not path.exists():
            rows.append(f"| {task} | {label} | not run | | | | | |")
            continue
        result = EvalResult.load(path)
        diff, low, high = result.compare(alone)
        per = result.per_item()
        run = "unverified" if stage == "unverified" else "ted"
        cost = ""
        if stage != "teacher" and (folder / f"{run}-distill.json").exists():
            info = json.loads((folder / f"{run}-distill.json").read_text())
            tokens = sum(u.get("total_tokens", 0) for u in info["usage"].values())
            cost = f"{info['seconds']:.0f} s, {tokens:,} tok, {len(info['library'])} exp"
        rows.append(
            f"| {task} | {label} | {result.accuracy:.3f} ({result.correct}/{result.total}) | "
            f"{diff:+.3f} [{low:+.3f}, {high:+.3f}] | {answered(result):.2f} | "
            f"{per['completion_tokens']:.0f} | {per['seconds']:.2f} | {cost} |"
        )
    return rows


def pools_rows() -> list[str]:
    """Student and teacher alone on each task's training pool (``--stage pools``)."""
    rows = [
        "| task | student alone | answered | tok/item | teacher alone | answered | tok/item |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for task in CANDIDATES:
        cells = [task]
        for who in ("student", "teacher"):
            path = OUT / "pools" / f"{task}-{who}.json"
            if not path.exists():
                cells += ["not run", "", ""]
                continue
            result = EvalResult.load(path)
            per = result.per_item()
            cells += [
                f"{result.accuracy:.2f} ({result.correct}/{result.total})",
                f"{answered(result):.2f}",
                f"{per['completion_tokens']:.0f}",
            ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _between(text: str, name: str, lines: list[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    table = "\n".join(lines)
    if begin in text:
        head, rest = text.split(begin, 1)
        return head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]
    return text + f"\n{begin}\n{table}\n{end}\n"


def write_report() -> None:
    """The tables of every task with results, between the gym markers of BENCHMARKS.md."""
    lines = [
        "| task | condition | accuracy | paired Δ vs alone [95%] | answered | completion tok/item"
        " | s/item | distillation (wall, tokens, library) |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for task in sorted(p.name for p in OUT.iterdir() if p.is_dir() and p.name != "pools"):
        lines += report_rows(task)
    bench = ROOT.parent / "BENCHMARKS.md"
    text = _between(bench.read_text(encoding="utf-8"), "gym", lines)
    if (OUT / "pools").exists():
        text = _between(text, "gym-pools", pools_rows())
    bench.write_text(text, encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=None)
    parser.add_argument("--stage", choices=["pools"], default=None)
    parser.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    parser.add_argument("--train", type=int, default=30)
    parser.add_argument("--validation", type=int, default=20)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    parser.add_argument("--teacher", default=DEFAULT_TEACHER)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        write_report()
        return
    models = {"student": load_chat_model(args.student), "teacher": load_chat_model(args.teacher)}
    if args.stage == "pools":
        stage_pools(args, models)
        return
    for task in args.tasks or list(TASKS):
        run_task(task, args, models)


if __name__ == "__main__":
    main()
