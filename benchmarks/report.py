"""Tables and plots from ``benchmarks/conditions.py`` results, written into BENCHMARKS.md.

    python benchmarks/report.py                    # every pair under benchmarks/results/conditions
    python benchmarks/report.py --pairs default --no-write   # print only

The section between ``<!-- conditions:<pair>:begin -->`` and ``<!-- conditions:<pair>:end -->``
in BENCHMARKS.md is replaced by what this script generates, so no figure there is typed by
hand. Plots go to ``plots/`` beside the results folder (``benchmarks/results/plots/`` by default);
``--no-write`` prints the sections and draws no plots.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from conditions import machine_of, stage_outputs  # benchmarks/ is on the path when this file runs

from ted_graph import EvalResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CONDITIONS = [
    ("student", "student alone", "student.json"),
    ("ted", "TED, retrieved (ours)", "ted-retrieved.json"),
    ("ted_all", "TED, all injected", "ted-all.json"),
    ("unverified", "TED unverified (the paper's path)", "ted-unverified.json"),
    ("examples", "worked examples", "examples.json"),
    ("ted_examples", "TED + worked examples", "ted-examples.json"),
    ("no_teacher", "no teacher (self-critique)", "no-teacher.json"),
    ("no_compression", "no compression", "no-compression.json"),
    ("finetune_base", "student alone on transformers (LoRA base)", "finetune-base.json"),
    ("finetune", "fine-tuned (LoRA)", "finetune.json"),
    ("teacher", "teacher alone", "teacher.json"),
]


def load_task(folder: Path) -> dict[str, EvalResult]:
    results = {}
    for key, _, name in CONDITIONS:
        if (folder / name).exists():
            results[key] = EvalResult.load(folder / name)
            # no-compression.derived.json: the ablation's result is the TED run's
            derived = folder / name.replace(".json", ".derived.json")
            results[key].derived = (  # type: ignore[attr-defined]
                json.loads(derived.read_text()) if derived.exists() else None
            )
            results[key].machine = machine_of(folder, name)  # type: ignore[attr-defined]
    # the student alone again on another CPU, for the conditions evaluated there
    for path in sorted(folder.glob("student@*.json")):
        alone = EvalResult.load(path)
        alone.derived = None  # type: ignore[attr-defined]
        alone.machine = machine_of(folder, path.name)  # type: ignore[attr-defined]
        results[f"student@{alone.machine}"] = alone
    return results


def run_record(folder: Path, run: str) -> dict[str, Any] | None:
    path = folder / run / "run" / "result.json"
    return json.loads(path.read_text()) if path.exists() else None


def experiences(folder: Path, run: str) -> list[dict[str, Any]]:
    path = folder / run / "run" / "experiences.json"
    if not path.exists():
        return []
    return [e for e in json.loads(path.read_text())["experiences"] if e["status"] == "active"]


def tokens(usage: dict[str, Any]) -> int:
    return sum(u["total_tokens"] for u in usage.values())


def pct(x: float) -> str:
    return f"{x:.3f}"


def baseline_of(key: str, results: dict[str, EvalResult]) -> str:
    """The condition a result is compared with: the student alone, on the same kind of CPU
    when the result ran on another than ``student.json`` and the student alone ran there
    too (greedy answers follow the CPU's kernels); the fine-tuned model is compared with
    its own untrained copy (same backend) when that ran."""
    if key == "finetune" and "finetune_base" in results:
        return "finetune_base"
    mine, alone = _machine(results.get(key)), _machine(results.get("student"))
    if mine and alone and mine != alone and f"student@{mine}" in results:
        return f"student@{mine}"
    return "student"


def _machine(result: EvalResult | None) -> str:
    return getattr(result, "machine", "") if result is not None else ""


def against(key: str, base_key: str, results: dict[str, EvalResult]) -> str:
    """What a Δ is taken against, when it is not the student alone as the table shows it."""
    if base_key == "finetune_base":
        return " (against the same weights untrained)"
    if base_key.startswith("student@"):
        return f" (against the student alone on the same CPU: {base_key.removeprefix('student@')})"
    mine, alone = _machine(results.get(key)), _machine(results.get("student"))
    if mine and alone and mine != alone:
        return f" (the student alone ran on another CPU: {alone}, this on {mine})"
    return ""


def stage_table(folders: dict[str, Path]) -> list[str]:
    """Wall time and tokens of every finished stage (its ``.done`` file)."""
    lines = [
        "| task | stage | wall s | evaluation tokens | distillation tokens | machine |",
        "|---|---|---:|---:|---:|---|",
    ]
    for task, folder in folders.items():
        for done in sorted(folder.glob("*.done"), key=lambda p: p.stat().st_mtime):
            record = json.loads(done.read_text())
            ev, di = record.get("evaluation_tokens"), record.get("distillation_tokens")
            wall, parts = record["seconds"], stage_parts_seconds(folder, done.stem)
            shown = f"{wall:.0f}"
            if parts > wall + 1:  # resumed: the .done timed only the invocation that finished it
                shown = f"{parts:.0f} (the last of several invocations: {wall:.0f})"
            lines.append(
                f"| {task} | {done.stem} | {shown} | "
                f"{'' if ev is None else f'{ev:,}'} | {'' if di is None else f'{di:,}'} | "
                f"{record.get('machine', '')} |"
            )
    return lines


def stage_parts_seconds(out: Path, stage: str) -> float:
    """Seconds of a stage's own evaluations and distillation runs, summed (models' loading
    and the stage's other work aside): what a stage resumed across invocations took."""
    evals, runs = stage_outputs(out, stage)
    return sum(float(json.loads(path.read_text()).get("seconds", 0.0)) for path in evals + runs)


def accuracy_table(tasks: dict[str, dict[str, EvalResult]]) -> list[str]:
    lines = [
        "| condition | " + " | ".join(tasks) + " |",
        "|---|" + "---:|" * len(tasks),
    ]
    for key, label, _ in CONDITIONS:
        cells = []
        for results in tasks.values():
            r = results.get(key)
            if r is None:
                cells.append("not run")
                continue
            low, high = r.interval
            cell = f"{pct(r.accuracy)} [{pct(low)}, {pct(high)}]"
            base_key = baseline_of(key, results)
            base = results.get(base_key)
            if key != "student" and base is not None:
                diff, dlo, dhi = r.compare(base)
                cell += f"<br>Δ {diff:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
                cell += against(key, base_key, results)
            if key == "student":
                for other, alone in results.items():
                    if other.startswith("student@"):
                        lo, hi = alone.interval
                        cell += (
                            f"<br>on {_machine(alone)}: {pct(alone.accuracy)} "
                            f"[{pct(lo)}, {pct(hi)}]"
                        )
            if r.derived and r.derived.get("same_as") == "ted":
                cell += "<br>(the TED run: its compressions changed nothing)"
            elif r.derived:
                source = r.derived["same_as"].removesuffix(".json").replace("-", " ")
                cell += f"<br>(= {source}: {r.derived['reason']})"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def cost_table(folders: dict[str, Path]) -> list[str]:
    lines = [
        "| task | method | wall s | student tokens | teacher tokens | other | "
        "accuracy gain | cost ratio (fine-tuning / TED) |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for task, folder in folders.items():
        results = load_task(folder)
        ted = run_record(folder, "ted")
        ft_path = folder / "finetune-cost.json"
        base = results.get(baseline_of("ted", results))
        ted_s = None
        if ted is not None:
            usage = ted.get("usage", {})
            roles = json.loads((folder / "ted" / "roles.json").read_text())
            names = sorted(usage)
            student_tok = usage.get(roles["student"], {}).get("total_tokens", 0)
            teacher_tok = usage.get(roles["teacher"], {}).get("total_tokens", 0)
            gain = results["ted"].compare(base)[0] if base and "ted" in results else float("nan")
            ted_s = ted["seconds"]
            lines.append(
                f"| {task} | TED distillation | {ted_s:.0f} | {student_tok:,} | {teacher_tok:,} | "
                f"{len(ted['history'])} steps ({', '.join(names)}) | {gain:+.3f} | |"
            )
        if ft_path.exists():
            ft = json.loads(ft_path.read_text())
            sol, train = ft["teacher_solutions"], ft["training"]
            wall = sol["seconds"] + train["seconds"]
            ft_base = results.get(baseline_of("finetune", results))
            gain = (
                results["finetune"].compare(ft_base)[0]
                if ft_base and "finetune" in results
                else float("nan")
            )
            ratio = f"{wall / ted_s:.2f}x" if ted_s else ""
            lines.append(
                f"| {task} | fine-tuning ({ft['settings']['method']}) | {wall:.0f} "
                f"({sol['seconds']:.0f} teacher + {train['seconds']:.0f} training) | "
                f"{train['train_tokens']:,} trained | {tokens(sol['usage']):,} | "
                f"{train['examples']} examples (the teacher's right answers of "
                f"{len(sol['records'])}), {train['steps']} steps, "
                f"{train['changed_parameters']:,} weights changed | {gain:+.3f} | {ratio} |"
            )
    return lines


def serving_table(tasks: dict[str, dict[str, EvalResult]]) -> list[str]:
    lines = [
        "| task | prompt tokens/item, alone → retrieved → all | retrieval ms/item | "
        "s/item, alone → retrieved → all | prompts with experiences |",
        "|---|---:|---:|---:|---:|",
    ]
    for task, results in tasks.items():
        if not {"student", "ted", "ted_all"} <= results.keys():
            continue
        a, r, al = (results[k].per_item() for k in ("student", "ted", "ted_all"))
        used = sum(1 for p in results["ted"].predictions if p["experience_ids"])
        # a derived result is another run's: its time is not a measurement of this one
        ret_s, all_s = (
            "(= alone)" if getattr(results[k], "derived", None) else f"{x['seconds']:.3f}"
            for k, x in (("ted", r), ("ted_all", al))
        )
        lines.append(
            f"| {task} | {a['prompt_tokens']:.0f} → {r['prompt_tokens']:.0f} → "
            f"{al['prompt_tokens']:.0f} | {r['retrieval_ms']:.1f} | {a['seconds']:.3f} → "
            f"{ret_s} → {all_s} | {used}/{results['ted'].total} |"
        )
    return lines


def rejections(folder: Path, run: str) -> tuple[dict[str, int], list[str]]:
    """Reasons the run's proposals were rejected (from its curation.log), and examples."""
    path = folder / run / "curation.log"
    if not path.exists():
        return {}, []
    reasons: dict[str, int] = {}
    examples: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.search(r"experience rejected, (.+?): (.+)$", line)
        if match:
            reasons[match.group(1)] = reasons.get(match.group(1), 0) + 1
            if len(examples) < 2:
                text = match.group(2)
                examples.append(text[:160] + ("…" if len(text) > 160 else ""))
            continue
        match = re.search(r"no valid operations \((.+?)(?::|\)$)", line)
        if match:
            key = f"no valid operations ({match.group(1)})"
            reasons[key] = reasons.get(key, 0) + 1
        elif "of unknown id" in line:
            reasons["update/delete of an unknown id"] = (
                reasons.get("update/delete of an unknown id", 0) + 1
            )
    return reasons, examples


def write_totals(record: dict[str, Any]) -> dict[str, int]:
    """A distillation run's library operations, summed over its steps. Runs made before
    the ``unparsed`` and ``failed`` counts existed counted both inside ``rejected``."""
    keys = (
        "critiqued", "added", "updated", "deleted", "rejected", "unverified", "unparsed", "failed"
    )  # fmt: skip
    return {k: sum(int(h.get(k, 0)) for h in record["history"]) for k in keys}


def roles_of(run: Path) -> dict[str, Any]:
    """A distillation run's roles.json (models, resumed, revalidated); {} without one."""
    roles = run / "roles.json"
    return json.loads(roles.read_text()) if roles.exists() else {}


def resumed(run: Path) -> bool:
    """Whether a distillation run was resumed after an interruption (its roles.json)."""
    return bool(roles_of(run).get("resumed"))


def revalidated(run: Path) -> str:
    """How a run's served version was chosen again after it ended ("" if it was not)."""
    again = roles_of(run).get("revalidated")
    if not again:
        return ""
    earlier = again.get("earlier") or {}
    kept = earlier.get("kept_step", -1)
    had = "the empty library" if kept < 0 else f"the library after step {kept}"
    return (
        f" (chosen after the run on {again['problems']} problems of the dev pool, between "
        f"the training and test splits, by `{again['command']}`; the run's own "
        f"{earlier.get('problems', '?')} validation problems had kept {had}, scoring the "
        f"student alone {earlier.get('without', float('nan')):.2f})"
    )


def kept_version(record: dict[str, Any], resumed: bool = False) -> str:
    """Which version of the library the validation split kept, in words ("" without one).

    A run resumed before the validation scores were kept beside its checkpoint started
    from the library as the interruption left it, not from the empty one."""
    v = record.get("validation")
    if not v or not v.get("scores"):
        return ""
    best = max(score for _, score in v["scores"])
    kept = v.get("kept_step", -1)
    start = "the empty library"
    if resumed and kept < 0 and len(v["scores"]) < len(record.get("history", [])) + 1:
        start = (
            "the library the last resume started from (not the empty one: the scores "
            "from before the resume were lost)"
        )
    said = (
        f"none of them beat it, so {start} was kept" if kept < 0
        else f"the library after step {kept} was kept"
    )  # fmt: skip
    return (
        f"; on the {v['problems']} validation problems the student alone scored "
        f"{v['without']:.2f} and the best version {best:.2f}: {said}"
    )


def analysis(folders: dict[str, Path]) -> list[str]:
    """What TED wrote, where it was retrieved, and which answers it changed."""
    lines: list[str] = []
    for task, folder in folders.items():
        results = load_task(folder)
        ted = run_record(folder, "ted")
        if ted is None or "ted" not in results or "student" not in results:
            continue
        totals = write_totals(ted)
        exps = experiences(folder, "ted")
        base = {p["id"]: p for p in results[baseline_of("ted", results)].predictions}
        mine = results["ted"].predictions
        fixed = sum(1 for p in mine if p["correct"] and not base[p["id"]]["correct"])
        broke = sum(1 for p in mine if not p["correct"] and base[p["id"]]["correct"])
        changed = sum(1 for p in mine if p["prediction"] != base[p["id"]]["prediction"])
        lines.append(
            f"**{task}**: {totals['critiqued']} critiques, {totals['added']} added, "
            f"{totals['updated']} updated, {totals['deleted']} deleted, {totals['rejected']} "
            f"rejected as invalid, {totals['unverified']} refused by verification"
            f"{kept_version(ted, resumed(folder / 'ted'))}{revalidated(folder / 'ted')}; "
            f"{len(exps)} active in the library "
            "served. On the test split, "
            f"{sum(1 for p in mine if p['experience_ids'])}/{len(mine)} prompts retrieved at "
            f"least one; {changed} answers changed against the student alone"
            f"{against('ted', baseline_of('ted', results), results)}, {fixed} "
            f"wrong → right and {broke} right → wrong."
        )
        alone = run_record(folder, "no_teacher")
        if alone is not None:
            own = write_totals(alone)
            lines.append(
                f"Without a teacher (the student critiquing itself): {own['critiqued']} "
                f"critiques, {own['added']} added, {own['rejected']} rejected as invalid; "
                f"{len(experiences(folder, 'no_teacher'))} active at the end."
            )
        reasons, examples = rejections(folder, "ted")
        if reasons:
            listed = "; ".join(
                f"{n} × {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])
            )
            lines.append(f"Rejected or failed proposals: {listed}. For example:")
            lines += [f"- rejected: {e}" for e in examples]
        retrieved: dict[str, int] = {}
        for p in mine:
            for i in p["experience_ids"]:
                retrieved[i] = retrieved.get(i, 0) + 1
        if exps:
            lines.append("Active at the end:")
        for e in exps:
            lines.append(
                f'- "{e["text"]}" (retrieved into {retrieved.get(e["id"], 0)} test prompts)'
            )
        lines.append("")
    return lines


def plots(
    pair: str, tasks: dict[str, dict[str, EvalResult]], folders: dict[str, Path], out: Path
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(CONDITIONS)
    for j, (key, label, _) in enumerate(CONDITIONS):
        xs, ys, errs = [], [[], []], []
        for i, results in enumerate(tasks.values()):
            r = results.get(key)
            if r is None:
                continue
            low, high = r.interval
            xs.append(i + (j - len(CONDITIONS) / 2 + 0.5) * width)
            errs.append(r.accuracy)
            ys[0].append(r.accuracy - low)
            ys[1].append(high - r.accuracy)
        ax.bar(xs, errs, width, yerr=ys, capsize=2, label=label)
    ax.set_xticks(range(len(tasks)), list(tasks))
    ax.set_ylabel("held-out accuracy (95% Wilson interval)")
    ax.set_title(f"Conditions, pair '{pair}'")
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    path = out / f"conditions-{pair}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(1, len(folders), figsize=(4 * len(folders), 3.4), squeeze=False)
    for ax, (task, folder) in zip(axes[0], folders.items(), strict=True):
        curve_path = folder / "curve.json"
        if not curve_path.exists():
            ax.set_title(f"{task}: not run")
            continue
        points = json.loads(curve_path.read_text())
        steps = [p["step"] + 1 for p in points]
        acc = [p["accuracy"] for p in points]
        low = [p["interval"][0] for p in points]
        high = [p["interval"][1] for p in points]
        ax.plot(steps, acc, marker="o", label="held-out accuracy")
        ax.fill_between(steps, low, high, alpha=0.2)
        ax.set_xlabel("distillation steps finished")
        ax.set_ylim(0, 1)
        ax.set_title(task)
        twin = ax.twinx()
        twin.step(
            steps,
            [p["library_size"] for p in points],
            where="post",
            color="tab:orange",
            label="library size",
        )
        twin.set_ylabel("active experiences")
    axes[0][0].set_ylabel("accuracy")
    fig.tight_layout()
    path = out / f"curve-{pair}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def validation_setting(folders: dict[str, Path], validation: int) -> str:
    """What each task's TED run validated on, from its own files (run.json's settings hold
    only the last command's), as "; ..." for the header ("" without validation)."""
    said: dict[str, list[str]] = {}
    for task, folder in folders.items():
        split = json.loads((folder / "split.json").read_text())
        again = roles_of(folder / "ted").get("revalidated")
        if split.get("validation"):
            how = f"on {len(split['validation'])} problems between the training and test splits"
        elif again:
            how = (
                f"on {again['earlier']['problems']} of the training problems, the served "
                f"version chosen again after the run on {again['problems']} problems between "
                "the training and test splits"
            )
        elif validation:
            how = f"on {validation} of the training problems"
        else:
            continue
        said.setdefault(how, []).append(task)
    if not said:
        return ""
    if len(said) == 1:
        return f"; validation {next(iter(said))}"
    return "; validation " + "; ".join(f"{how} ({', '.join(t)})" for how, t in said.items())


def section(pair_dir: Path, plots_dir: Path | None = None) -> str:
    """The BENCHMARKS.md section of one pair's results; its plots go to ``plots_dir`` (none
    when it is None)."""
    pair = pair_dir.name
    meta = json.loads((pair_dir / "run.json").read_text())
    folders = {p.name: p for p in sorted(pair_dir.iterdir()) if (p / "split.json").exists()}
    tasks = {name: load_task(folder) for name, folder in folders.items()}
    images = plots(pair, tasks, folders, plots_dir) if plots_dir is not None else []
    s = meta["settings"]
    # a stage resumed session by session repeats its command: each is named once
    commands = list(dict.fromkeys(meta.get("commands") or [meta["command"]]))
    held_out = validation_setting(folders, s.get("validation", 0))
    lines = [
        f"Produced by `{'`, `'.join(commands)}`, then `python benchmarks/report.py`, on "
        f"{meta['machine']}, Python {meta['python']}. Student `{s['student']}`, teacher "
        f"`{s['teacher']}`; train {s['train']} / test {s['test']} items per task (seed "
        f"{s['seed']}{held_out}); distillation: {s['epochs']} epoch(s), {s['rollouts']} rollouts, "
        f"{s['batch_size']} problems per step, other settings at their defaults.",
        "",
        "Accuracy on the held-out split [95% Wilson interval]; Δ: difference from the "
        "student alone on the same items [95% paired bootstrap interval].",
        "",
        *accuracy_table(tasks),
        "",
        *[f"![{p.stem}]({_link(p)})" for p in images],
        "",
        "Cost of producing the improvement (wall time on this machine, tokens processed):",
        "",
        *cost_table(folders),
        "",
        "Wall time and tokens of each stage (a stage's evaluations and distillation runs):",
        "",
        *stage_table(folders),
        "",
        "Serving overhead of experiences in the student's prompt (evaluation runs, "
        "batched; s/item is wall time divided by items):",
        "",
        *serving_table(tasks),
        "",
        "What TED wrote and what it did:",
        "",
        *analysis(folders),
    ]
    return "\n".join(lines).rstrip() + "\n"


def breakdown_section(path: Path) -> str:
    """The table of ``benchmarks/breakdown.py``'s JSON."""
    data = json.loads(path.read_text())
    wall = data["wall_seconds"]
    lines = [
        f"Produced by `{data['command']}` on {data['machine']}: {data['steps']} steps, "
        f"{wall:.0f} s wall time (models loaded before the clock starts).",
        "",
        "| part | busy s | share of wall | calls |",
        "|---|---:|---:|---:|",
    ]
    calls = data["calls"]
    for name, secs in sorted(data["busy_seconds"].items(), key=lambda kv: -kv[1]):
        lines.append(
            f"| {name} | {secs:.2f} | {secs / wall:.1%} | {calls.get(name.split(' ')[0], '')} |"
        )
    lines.append(
        f"| orchestration overhead (none of the above running) | {data['overhead_seconds']:.2f} "
        f"| {data['overhead_fraction']:.1%} | |"
    )
    usage = data["usage"]
    lines += [
        "",
        "| model | calls | prompts | prompt tokens | completion tokens | busy s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, u in usage.items():
        lines.append(
            f"| {name} | {u['calls']} | {u['prompts']} | {u['prompt_tokens']:,} | "
            f"{u['completion_tokens']:,} | {u['busy_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def replace_section(text: str, name: str, body: str) -> str | None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text:
        return None
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def _link(path: Path) -> str:
    """A plot's address in BENCHMARKS.md: relative to the repository when it lies inside."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results" / "conditions")
    parser.add_argument("--pairs", nargs="*", default=None)
    parser.add_argument("--no-write", action="store_true", help="Print, don't edit BENCHMARKS.md.")
    args = parser.parse_args()
    pairs = args.pairs or sorted(
        p.name for p in args.results.iterdir() if (p / "run.json").exists()
    )
    bench = ROOT / "BENCHMARKS.md"
    text = bench.read_text(encoding="utf-8")
    # Plots lie beside the results (benchmarks/results/plots by default); --no-write makes none.
    plots_dir = None if args.no_write else args.results.parent / "plots"
    sections = {f"conditions:{pair}": section(args.results / pair, plots_dir) for pair in pairs}
    breakdown = HERE / "results" / "breakdown.json"
    if breakdown.exists():
        sections["breakdown"] = breakdown_section(breakdown)
    for name, body in sections.items():
        updated = None if args.no_write else replace_section(text, name, body)
        if updated is None:
            print(body)
            if not args.no_write:
                print(f"(BENCHMARKS.md has no <!-- {name}:begin --> marker; printed only)")
            continue
        text = updated
    if not args.no_write:
        bench.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
