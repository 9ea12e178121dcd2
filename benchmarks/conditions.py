"""The paper's comparison on real BIG-bench tasks: every condition, one student, same items.

    python benchmarks/conditions.py             # 5 tasks, train 40 (10 validation), test 150
    python benchmarks/conditions.py --subset    # 1 task, train 4, test 30
    python benchmarks/conditions.py --tasks date_understanding --stages student ted
    python benchmarks/conditions.py --dev-validation 30   # validate on the dev pool instead

The default pair is the embedded one: Qwen2.5-Coder-0.5B student, Qwen2.5-Coder-1.5B
teacher, both on llama.cpp (``--pair qwen``). ``--pair default`` with
``--student transformers:smollm2-135m --teacher qwen2.5-coder-0.5b --train 16
--validation 0 --tasks logical_deduction date_understanding object_counting`` is the
earlier comparison, whose results are kept.

For each task a seeded shuffle fixes a held-out test split (the last ``--test`` items) and
a training split (the first ``--train``); changing ``--train`` leaves the test split alone.
The items between them (the dev pool) are read only with ``--dev-validation``.
Then, all on the same test items and the same student:

  student        the student alone
  ted            distil with the teacher (TED defaults, except --epochs and --rollouts),
                 then evaluate with retrieved experiences (ours) and with all experiences
                 injected (Training-Free GRPO); the library is snapshotted after each step
  curve          held-out accuracy of each step's snapshot (reusing identical libraries)
  unverified     TED without verification (the paper's path: every valid lesson enters),
                 evaluated with retrieved experiences
  examples       worked examples (ted_graph.library.examples): the teacher's right solutions of the
                 training problems, in the student's format; the student is evaluated with
                 the most similar one in its prompt (examples.json), and with it beside the
                 TED run's retrieved lessons (ted-examples.json, when the ted stage ran)
  no_teacher     ablation: the student critiques its own rollouts against the ground truth
                 (its weights play the teacher; see --self-critic)
  no_compression ablation: distil with compression switched off
  teacher        the teacher alone (the ceiling)
  finetune       parameter-based distillation: LoRA on the teacher's correct solutions to
                 the same training problems (benchmarks/finetune.py). LoRA trains a
                 transformers copy of the student (--finetune-student), so this stage also
                 evaluates that copy untrained (finetune-base.json): the fine-tuned model is
                 compared with its own backend, not with the llama.cpp student

Every stage writes its JSON under ``--out/<pair>/<task>/`` and is skipped when that file
exists, so an interrupted run resumes where it stopped: a finished evaluation is kept, and
a distillation is checkpointed (``checkpoint.sqlite`` beside its persistent library) so it
goes on from its last finished step. A stage's ``.done`` file records its wall time and
the tokens it processed. ``benchmarks/report.py`` turns the files into BENCHMARKS.md
tables and plots.

Greedy answers follow the CPU's kernels, and sessions may run on different CPUs: every
evaluation notes its CPU in ``machines.json``, and a stage that evaluated the student with
something on another CPU than ``student.json``'s also evaluates the student alone there
(``student@<cpu>.json``), which the report compares it with.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from ted_graph import DistillResult, EvalResult, ExperienceLibrary, distill, evaluate, load_dataset
from ted_graph.config import DistillConfig
from ted_graph.data import split
from ted_graph.models import load_chat_model, model_name

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STAGES = [
    "student",
    "ted",
    "curve",
    "unverified",
    "examples",
    "no_teacher",
    "no_compression",
    "teacher",
    "finetune",
]
# Every bundled task, run in this order; the first two have the widest teacher-student gaps
# measured on their training splits (benchmarks/pairs.py).
TASKS = ["object_counting", "date_understanding", "logical_deduction", "geometric_shapes",
         "tracking_shuffled_objects"]  # fmt: skip


def task_split(task: str, train: int, test: int, seed: int) -> tuple[list, list]:
    """Train = the first ``train`` items of a seeded shuffle, test = its last ``test``."""
    return split(
        load_dataset(f"bigbench:{task}"), train=train, test=test, seed=seed, fixed_test=True
    )


def dev_pool(task: str, train: int, test: int, seed: int) -> list[dict]:
    """The items between the training and the test split of :func:`task_split` (the dev
    pool): no stage trains or tests on them."""
    order = list(load_dataset(f"bigbench:{task}"))
    random.Random(seed).shuffle(order)  # data.split's shuffle
    return order[train : len(order) - test]


def compression_was_idle(run: Path) -> bool:
    """Whether every compression in a run's curation.log removed, merged and rewrote
    nothing (then compression did not influence the run at all)."""
    log = run / "curation.log"
    if not log.exists():
        return False
    reports = [line for line in log.read_text().splitlines() if " compression: " in line]
    idle = "removed=0, merged=0, rewritten=0, dropped=0"
    return all(idle in line for line in reports)


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.models: dict[str, Any] = {}
        self.valset: list[dict] | None = None  # the task's dev-pool validation split
        self.cfg = DistillConfig(
            epochs=args.epochs,
            n=args.rollouts,
            batch_size=args.batch_size,
            seed=args.seed,
            validation=0 if args.dev_validation else args.validation,
        )

    def model(self, spec: str) -> Any:
        if spec not in self.models:
            self.models[spec] = load_chat_model(spec)
        return self.models[spec]

    def self_critic(self) -> str:
        """The model that plays the teacher in the no-teacher ablation: the student's own
        weights, by default on the default (llama.cpp) backend, which writes the long
        critiques several times faster than transformers on a CPU."""
        spec = self.args.self_critic or self.args.student
        for prefix in ("transformers:", "hf:"):
            if spec.startswith(prefix) and not self.args.self_critic:
                return spec[len(prefix) :]
        return spec

    def fresh_student(self) -> Any:
        """A new transformers copy of the student (fine-tuning changes its weights in
        place; LoRA needs a torch model)."""
        spec = self.args.finetune_student or self.args.student
        if not spec.startswith(("transformers:", "hf:")):
            spec = f"transformers:{spec}"
        return load_chat_model(spec)

    def evaluate(self, model: Any, test: list[dict], path: Path, **kw: Any) -> EvalResult:
        if path.exists():  # saved only when complete: a resumed stage keeps it
            result = EvalResult.load(path)
            print(f"  {path.stem}: {result} (kept from an earlier invocation)", flush=True)
            return result
        result = evaluate(
            model,
            test,
            max_tokens=kw.pop("max_tokens", self.cfg.student_max_tokens),
            k=self.cfg.k,
            min_similarity=self.cfg.min_similarity,
            max_experience_tokens=self.cfg.max_experience_tokens,
            desc=path.stem,
            **kw,
        )
        result.save(path)
        record_machine(path)
        print(f"  {path.stem}: {result}  [{result.seconds:.0f}s]", flush=True)
        return result

    def alone_here(self, out: Path, test: list[dict], stage: str) -> None:
        """Greedy decoding follows the CPU's kernels (on geometric_shapes 18 of 48 answers
        of the student alone matched between an AVX2 and an AVX-512 machine), so a
        condition is compared with the student alone on the same kind of CPU: when
        ``stage`` evaluated on this machine and ``student.json`` came from another, the
        student alone is evaluated here too, into ``student@<machine>.json``."""
        here = cpu_kind()
        if machine_of(out, "student.json") in ("", here):
            return
        evals, _ = stage_outputs(out, stage)
        if any(machine_of(out, path.name) == here for path in evals):
            self.evaluate(self.model(self.args.student), test, out / alone_file(here))

    def distill(
        self, folder: Path, teacher_spec: str, train: list[dict], **changes: Any
    ) -> DistillResult:
        if (folder / "run" / "result.json").exists():  # finished in an earlier invocation
            result = DistillResult.load(folder / "run")
            print(f"  {folder.name}: {result.summary()} (kept)", flush=True)
            return result
        checkpoint = folder / "checkpoint.sqlite"
        resumed = checkpoint.exists()  # an interrupted run goes on from its last finished step
        if folder.exists() and not resumed:
            shutil.rmtree(folder)  # a run interrupted before its first checkpoint is redone
        snapshots = folder / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)

        def snapshot(record: dict, library: ExperienceLibrary) -> None:
            library.export_json(snapshots / f"step-{record['step']}.json", status="active")
            (snapshots / f"step-{record['step']}.record.json").write_text(json.dumps(record))

        # what the teacher proposed and why validation rejected it, for the analysis
        handler = logging.FileHandler(folder / "curation.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        loggers = [
            logging.getLogger(n)
            for n in (
                "ted_graph.distillation.curation",
                "ted_graph.distillation.graph",
                "ted_graph.distillation.induction",
            )
        ]
        for log in loggers:
            log.setLevel(logging.INFO)
            log.addHandler(handler)
        try:
            result = distill(
                self.model(self.args.student),
                self.model(teacher_spec),
                train,
                library=ExperienceLibrary(folder / "library"),
                config=self.cfg.updated(**changes),
                on_step=snapshot,
                checkpointer=checkpoint,
                thread_id="run",
                valset=self.valset,
            )
        finally:
            for log in loggers:
                log.removeHandler(handler)
            handler.close()
        result.save(folder / "run")
        # finished: run/ holds the result and its experiences; the resumable state goes
        for leftover in folder.glob("checkpoint.sqlite*"):  # its -wal, -shm, validation file
            leftover.unlink()
        shutil.rmtree(folder / "library", ignore_errors=True)
        roles = {
            "student": model_name(self.model(self.args.student)),
            "teacher": model_name(self.model(teacher_spec)),
            # a resumed run's seconds and usage count only its last invocation; the
            # steps' own wall times are in the history whatever the invocation
            "resumed": resumed,
        }
        (folder / "roles.json").write_text(json.dumps(roles))
        print(f"  {folder.name}: {result.summary()}", flush=True)
        return result

    def distill_and_evaluate(
        self, out: Path, run: str, name: str, teacher_spec: str, train: list[dict],
        test: list[dict], **changes: Any,
    ) -> None:  # fmt: skip
        """Distil into ``out/run``, then evaluate the student with retrieval from its library
        into ``out/name`` (the student's own result stands in when the library is empty)."""
        self.distill(out / run, teacher_spec, train, **changes)
        lib = self.library_of(out / run)
        if len(lib) == 0:
            derive(out, name, "student.json", "the distilled library is empty")
        else:
            self.evaluate(self.model(self.args.student), test, out / name, library=lib)

    def library_of(self, run: Path) -> ExperienceLibrary:
        return DistillResult.load(run / "run").library

    def run_task(self, task: str) -> None:
        args = self.args
        out = args.out / args.pair / task
        out.mkdir(parents=True, exist_ok=True)
        train, test = task_split(task, args.train, args.test, args.seed)
        self.valset = (
            dev_pool(task, args.train, args.test, args.seed)[: args.dev_validation]
            if args.dev_validation
            else None
        )
        ids = {"train": [p["id"] for p in train], "test": [p["id"] for p in test]}
        previous = (
            json.loads((out / "split.json").read_text()) if (out / "split.json").exists() else {}
        )
        if self.valset:
            ids["validation"] = [p["id"] for p in self.valset]
        elif previous.get("validation") and (out / "ted" / "run" / "result.json").exists():
            # a later invocation without --dev-validation: the finished run validated on these
            ids["validation"] = previous["validation"]
        (out / "split.json").write_text(json.dumps(ids))
        print(f"[{task}] train {len(train)}, test {len(test)} -> {out}", flush=True)
        student = self.args.student
        for stage in args.stages:
            done = out / f"{stage}.done"
            ted_done = (out / "ted" / "run" / "result.json").exists()
            owed = (
                # examples run before ted owe the TED + examples evaluation once ted is done
                stage == "examples" and ted_done and not (out / "ted-examples.json").exists()
            ) or (
                # a finished run whose test evaluations were removed (versions.py --keep)
                stage == "ted" and ted_done and not (out / "ted-retrieved.json").exists()
            )
            if done.exists() and not owed:
                if stage in SAME_MACHINE:
                    self.alone_here(out, test, stage)
                continue
            earlier = json.loads(done.read_text())["seconds"] if done.exists() else 0.0
            started = time.time() - earlier
            print(f"[{task}] {stage}", flush=True)
            if stage == "student":
                self.evaluate(self.model(student), test, out / "student.json")
            elif stage == "ted":
                self.distill(out / "ted", args.teacher, train)
                lib = self.library_of(out / "ted")
                model = self.model(student)
                if len(lib) == 0:
                    for name in ("ted-retrieved.json", "ted-all.json"):
                        derive(out, name, "student.json", "the distilled library is empty")
                else:
                    self.evaluate(model, test, out / "ted-retrieved.json", library=lib)
                    self.evaluate(model, test, out / "ted-all.json", library=lib, experiences="all")
            elif stage == "curve":
                self.curve(out, test)
            elif stage == "unverified":
                self.distill_and_evaluate(
                    out, "unverified", "ted-unverified.json", args.teacher, train, test,
                    verify=False,
                )  # fmt: skip
            elif stage == "examples":
                self.examples(out, train, test)
            elif stage == "no_teacher":
                self.distill_and_evaluate(
                    out, "no_teacher", "no-teacher.json", self.self_critic(), train, test
                )
            elif stage == "no_compression" and compression_was_idle(out / "ted"):
                # Every compression of the TED run changed nothing, so a run without
                # compression (same seed and steps) would produce the same libraries.
                shutil.copy(out / "ted-retrieved.json", out / "no-compression.json")
                (out / "no-compression.derived.json").write_text(
                    json.dumps({"same_as": "ted", "reason": "compression changed nothing"})
                )
                print(
                    "  no-compression: the TED run's compressions changed nothing; "
                    "its result stands for this ablation",
                    flush=True,
                )
            elif stage == "no_compression":
                self.distill(
                    out / "no_compression",
                    args.teacher,
                    train,
                    compress_every=0,
                    max_size=1_000_000,
                )
                lib = self.library_of(out / "no_compression")
                self.evaluate(self.model(student), test, out / "no-compression.json", library=lib)
            elif stage == "teacher":
                self.evaluate(
                    self.model(args.teacher),
                    test,
                    out / "teacher.json",
                    max_tokens=self.cfg.teacher_max_tokens,
                )
            elif stage == "finetune":
                self.finetune(out, train, test)
            seconds = round(time.time() - started, 1)
            record = {"seconds": seconds, **stage_tokens(out, stage), "machine": cpu_kind()}
            done.write_text(json.dumps(record))
            if stage in SAME_MACHINE:
                self.alone_here(out, test, stage)

    def curve(self, out: Path, test: list[dict]) -> None:
        """Held-out accuracy after each distillation step of the ``ted`` run."""
        snapshots = sorted(
            (out / "ted" / "snapshots").glob("step-*.record.json"),
            key=lambda p: int(p.name.split("-")[1].split(".")[0]),
        )
        base = EvalResult.load(out / "student.json")
        seen: dict[tuple[str, ...], dict[str, Any]] = {(): base.summary()}
        final = out / "ted" / "run" / "experiences.json"
        if final.exists() and (out / "ted-retrieved.json").exists():  # the last snapshot
            texts = json.loads(final.read_text())["experiences"]
            key = tuple(sorted(e["text"] for e in texts if e["status"] == "active"))
            seen[key] = EvalResult.load(out / "ted-retrieved.json").summary()
        points = [{"step": -1, "library_size": 0, **base.summary()}]
        for record_file in snapshots:
            record = json.loads(record_file.read_text())
            export = record_file.with_name(f"step-{record['step']}.json")
            texts = tuple(sorted(e["text"] for e in json.loads(export.read_text())["experiences"]))
            if texts not in seen:
                lib = ExperienceLibrary.in_memory()
                lib.import_json(export)
                result = self.evaluate(
                    self.model(self.args.student),
                    test,
                    out / "curve" / f"step-{record['step']}.json",
                    library=lib,
                )
                seen[texts] = result.summary()
            points.append({"step": record["step"], "library_size": len(texts), **seen[texts]})
        (out / "curve.json").write_text(json.dumps(points, indent=1))

    def teacher_solutions(self, out: Path, train: list[dict]) -> tuple[list[dict], dict]:
        """The teacher's greedy answers to the training problems in the student's format
        (shared by the fine-tuning and worked-example stages; kept in
        ``teacher-solutions.json``)."""
        from finetune import teacher_solutions

        path = out / "teacher-solutions.json"
        if path.exists():
            saved = json.loads(path.read_text())
            return saved["records"], saved["cost"]
        records, cost = teacher_solutions(
            self.model(self.args.teacher), train, max_tokens=self.cfg.teacher_max_tokens
        )
        path.write_text(json.dumps({"records": records, "cost": cost}, indent=1))
        return records, cost

    def examples(self, out: Path, train: list[dict], test: list[dict]) -> None:
        """Worked examples alone, and beside the TED run's lessons."""
        from ted_graph.library.examples import worked_solution

        records, cost = self.teacher_solutions(out, train)
        lib = ExperienceLibrary.in_memory()
        for problem, record in zip(train, records, strict=True):
            solution = worked_solution(record["text"], problem)
            if solution is not None:
                lib.examples.add(problem, solution)
        print(f"  {len(lib.examples)} worked examples of {len(train)} training problems")
        k = self.args.examples
        model = self.model(self.args.student)
        if len(lib.examples) == 0:  # no example to show: the prompts are the student's own
            derive(out, "examples.json", "student.json", "the teacher solved no problem right")
        else:
            self.evaluate(model, test, out / "examples.json", library=lib,
                          experiences="none", examples=k)  # fmt: skip
        (out / "examples-cost.json").write_text(
            json.dumps({"examples": len(lib.examples), "k": k, "teacher_solutions": cost})
        )
        if (out / "ted" / "run" / "result.json").exists() and len(lib.examples) == 0:
            derive(out, "ted-examples.json", "ted-retrieved.json", "no worked example")
        elif (out / "ted" / "run" / "result.json").exists():
            ted = self.library_of(out / "ted")
            ted.examples.keep_only(())  # the TED library's lessons with these examples
            ted.examples.put(lib.examples.all())
            self.evaluate(model, test, out / "ted-examples.json", library=ted, examples=k)

    def finetune(self, out: Path, train: list[dict], test: list[dict]) -> None:
        from finetune import FinetuneSettings, finetune

        records, cost = self.teacher_solutions(out, train)
        keep = [(p, r["text"]) for p, r in zip(train, records, strict=True) if r["correct"]]
        print(
            f"  teacher solved {len(keep)}/{len(train)} training problems "
            f"in {cost['seconds']:.0f}s",
            flush=True,
        )
        student = self.fresh_student()
        # the untrained copy on the same backend: the fine-tuned model's own baseline
        self.evaluate(student, test, out / "finetune-base.json")
        settings = FinetuneSettings(method=self.args.finetune_method)
        report = finetune(student, [p for p, _ in keep], [t for _, t in keep], settings)
        result = self.evaluate(student, test, out / "finetune.json")
        (out / "finetune-cost.json").write_text(
            json.dumps(
                {
                    "settings": vars(settings) | {"target_modules": list(settings.target_modules)},
                    "teacher_solutions": cost | {"records": records},
                    "training": report.to_dict(),
                    "accuracy": result.accuracy,
                },
                indent=1,
            )
        )
        print(
            f"  fine-tuned on {report.examples} examples, {report.steps} steps in "
            f"{report.seconds:.0f}s, {report.changed_parameters} parameters changed",
            flush=True,
        )


# What each stage writes: evaluations (prompt + completion tokens of every item) and
# distillation runs (every model's usage), for the tokens in its .done file.
STAGE_FILES = {
    "student": (["student.json"], []),
    "ted": (["ted-retrieved.json", "ted-all.json"], ["ted"]),
    "unverified": (["ted-unverified.json"], ["unverified"]),
    "no_teacher": (["no-teacher.json"], ["no_teacher"]),
    "no_compression": (["no-compression.json"], ["no_compression"]),
    "teacher": (["teacher.json"], []),
    "finetune": (["finetune-base.json", "finetune.json"], []),
    "examples": (["examples.json", "ted-examples.json"], []),
}


# stages whose evaluations are compared with the student alone on the llama.cpp backend
SAME_MACHINE = ("ted", "unverified", "examples", "no_teacher", "no_compression")


def alone_file(machine: str) -> str:
    """The file of the student alone evaluated on ``machine`` when ``student.json`` was
    evaluated on another: ``student@amd-epyc-avx-512.json``."""
    return f"student@{re.sub(r'[^a-z0-9]+', '-', machine.lower()).strip('-')}.json"


def record_machine(path: Path) -> None:
    """Note in ``machines.json`` beside it the CPU an evaluation ran on."""
    ledger = path.parent / "machines.json"
    known = json.loads(ledger.read_text()) if ledger.exists() else {}
    known[path.name] = cpu_kind()
    ledger.write_text(json.dumps(known, indent=1, sort_keys=True))


def machine_of(out: Path, name: str) -> str:
    """The CPU the evaluation ``out/name`` ran on: from ``machines.json``; for results
    from before it, the machine of the stage that wrote them (its ``.done``); a derived
    result's is its source's; "" when unknown."""
    derived = out / name.replace(".json", ".derived.json")
    if derived.exists():
        source = json.loads(derived.read_text()).get("same_as", "")
        if source.endswith(".json") and source != name:
            return machine_of(out, source)
    ledger = out / "machines.json"
    if ledger.exists() and name in (known := json.loads(ledger.read_text())):
        return known[name]
    for stage, (evals, _) in STAGE_FILES.items():
        done = out / f"{stage}.done"
        if name in evals and done.exists():
            return json.loads(done.read_text()).get("machine", "")
    return ""


def cpu_kind() -> str:
    """The CPU's model name and its widest vector units, e.g. "AMD EPYC, AVX2" (sessions of
    one benchmark may run on different machines, so every stage records its own)."""
    name, flags = platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    units = [u for u, f in (("AMX", "amx_tile"), ("AVX-512", "avx512f"), ("AVX2", "avx2"))
             if f in flags]  # fmt: skip
    return ", ".join([name, *units[:1]])


def stage_outputs(out: Path, stage: str) -> tuple[list[Path], list[Path]]:
    """A stage's own evaluation files and its distillation runs' ``result.json``, those
    that exist (a result another stage produced and this one reused is not its own)."""
    evals, runs = STAGE_FILES.get(stage, ([], []))
    if stage == "curve":
        evals = [str(p.relative_to(out)) for p in sorted((out / "curve").glob("step-*.json"))]
    own = [
        out / name
        for name in evals
        if (out / name).exists() and not (out / name.replace(".json", ".derived.json")).exists()
    ]
    results = [out / run / "run" / "result.json" for run in runs]
    return own, [path for path in results if path.exists()]


def stage_tokens(out: Path, stage: str) -> dict[str, int]:
    """Tokens a stage processed: its evaluations' and its distillation's, prompts and
    completions (a result another stage produced and this one reused is not counted)."""
    evals, runs = stage_outputs(out, stage)
    evaluation = sum(
        p["prompt_tokens"] + p["completion_tokens"]
        for path in evals
        for p in json.loads(path.read_text())["predictions"]
    )
    distillation = 0
    for path in runs:
        usage = json.loads(path.read_text()).get("usage", {})
        distillation += sum(u.get("total_tokens", 0) for u in usage.values())
    if stage == "examples" and (out / "examples-cost.json").exists():
        cost = json.loads((out / "examples-cost.json").read_text())
        distillation += sum(
            u.get("total_tokens", 0) for u in cost["teacher_solutions"]["usage"].values()
        )
    if stage == "finetune" and (out / "finetune-cost.json").exists():
        cost = json.loads((out / "finetune-cost.json").read_text())
        distillation += sum(
            u.get("total_tokens", 0) for u in cost["teacher_solutions"]["usage"].values()
        )
        distillation += cost["training"]["train_tokens"]
    return {"evaluation_tokens": evaluation, "distillation_tokens": distillation}


def derive(out: Path, name: str, source: str, reason: str) -> None:
    """Stand ``source``'s result in for ``name`` when their prompts are provably the same
    (an empty library adds nothing to a prompt, and evaluation decodes greedily)."""
    shutil.copy(out / source, out / name)
    (out / name.replace(".json", ".derived.json")).write_text(
        json.dumps({"same_as": source, "reason": reason})
    )
    print(f"  {Path(name).stem}: {reason}; {source}'s result stands for it", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument(
        "--validation",
        type=int,
        default=10,
        help="Training problems every distillation holds out to keep its best library "
        "(DistillConfig.validation); the rest are distilled.",
    )
    parser.add_argument(
        "--dev-validation",
        type=int,
        default=0,
        help="Validate on this many problems of the dev pool (the items between the "
        "training and test splits) instead, and distil all training problems "
        "(distill(valset=...); --validation is then ignored).",
    )
    parser.add_argument("--test", type=int, default=150)
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--teacher", default="qwen2.5-coder-1.5b")
    parser.add_argument(
        "--finetune-student",
        default=None,
        help="Model spec LoRA trains (default: the student's weights on transformers).",
    )
    parser.add_argument(
        "--self-critic",
        default=None,
        help="Model spec of the critic in the no-teacher ablation (default: the student's "
        "weights on the default backend).",
    )
    parser.add_argument("--pair", default="qwen", help="Name of the model pair's folder.")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=STAGES)
    parser.add_argument(
        "--examples", type=int, default=1, help="Worked examples per prompt (examples stage)."
    )
    parser.add_argument("--finetune-method", choices=["lora", "full"], default="lora")
    parser.add_argument(
        "--subset", action="store_true", help="1 task, train 4 (no validation), test 30."
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "conditions")
    args = parser.parse_args()
    if args.subset:
        args.tasks, args.train, args.test, args.validation = args.tasks[:1], 4, 30, 0
        args.pair += "-subset"
    meta = args.out / args.pair / "run.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", "benchmarks/conditions.py", *sys.argv[1:]])
    previous = json.loads(meta.read_text()) if meta.exists() else {}
    commands = previous.get("commands") or [previous["command"]] if previous else []
    meta.write_text(
        json.dumps(
            {
                "commands": [*commands, command],  # every invocation, resumes included
                "settings": {
                    k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                },
                "machine": cpu_kind(),
                "python": platform.python_version(),
            },
            indent=1,
        )
    )
    runner = Runner(args)
    for task in args.tasks:
        runner.run_task(task)


if __name__ == "__main__":
    main()
