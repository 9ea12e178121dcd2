"""Group-comparison prompts side by side: the rules each one gets, verified as sets.

    python benchmarks/group_prompts.py --task geometric_shapes --ids ID ID ... \
        --variants shipped path/to/prompts_folder ...

On one group of *training* problems (``split(..., train=40, test=150, seed=0)``, the split
of ``benchmarks/conditions.py``; no test item is seen) the student answers each problem
once (greedy); the teacher is asked for the group's rules under each prompt variant
(``shipped``: the package's ``prompts/``; a folder: its ``group_critique.jinja`` overrides,
as ``TED_GRAPH_PROMPTS`` does), ``group_proposals`` times each, exactly as distillation
asks; then every proposal is verified as a set on the ``verify_set`` training problems
nearest the group, outside it (:meth:`ted_graph.distillation.verification.Verifier.set_verdicts`,
the
"without" answers shared). Prints each proposal's share of right answers without and with
its rules. Default pair and settings: those of ``DistillConfig()``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from ted_graph import ExperienceLibrary, evaluate, load_chat_model, load_dataset
from ted_graph.config import DistillConfig
from ted_graph.data import split
from ted_graph.distillation.induction import group_critique
from ted_graph.distillation.nodes import teacher_asker_many
from ted_graph.distillation.verification import Verifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--ids", nargs="+", required=True, help="training problems of the group")
    parser.add_argument("--variants", nargs="+", default=["shipped"])
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--teacher", default="qwen2.5-coder-1.5b")
    parser.add_argument(
        "--no-verify", action="store_true", help="print the teacher's rules only (no student runs)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train, _ = split(load_dataset(f"bigbench:{args.task}"), train=40, test=150, seed=0)
    by_id = {p["id"]: p for p in train}
    group = [by_id[i] for i in args.ids]  # KeyError: not a training problem
    student, teacher = load_chat_model(args.student), load_chat_model(args.teacher)
    cfg = DistillConfig()
    answers = evaluate(student, group, desc="student on the group").predictions
    results = [
        {"problem_id": p["id"], "rollouts": [
            {"text": p["response"], "answer": p["prediction"], "correct": p["correct"]}]}
        for p in answers
    ]  # fmt: skip
    ask = teacher_asker_many(teacher, cfg)
    sets: list[list[str]] = []
    names: list[str] = []
    for variant in args.variants:
        if variant == "shipped":
            os.environ.pop("TED_GRAPH_PROMPTS", None)
        else:
            os.environ["TED_GRAPH_PROMPTS"] = variant
        started = time.time()
        rules = group_critique(results, by_id, ask, cfg)  # type: ignore[arg-type]
        print(f"{variant}: teacher {time.time() - started:.0f} s", flush=True)
        for text in rules.critiques if rules else []:
            print(f"--- {variant}:\n{text}\n", flush=True)
        for proposal in rules.candidates if rules else []:
            sets.append(proposal)
            names.append(variant)
    os.environ.pop("TED_GRAPH_PROMPTS", None)
    if args.no_verify:
        for name, rules in zip(names, sets, strict=True):
            print(f"{name}: {rules}")
        return
    verifier = Verifier(student, ExperienceLibrary.in_memory(), train, cfg)
    sample = verifier.near(group, cfg.verify_set)
    started = time.time()
    verdicts = verifier.set_verdicts(sets, sample)
    print(f"verification: {len(sample)} problems, {time.time() - started:.0f} s")
    for name, rules, verdict in zip(names, sets, verdicts, strict=True):
        print(f"{name}: {verdict.without:.2f} -> {verdict.with_:.2f} {rules}")


if __name__ == "__main__":
    main()
