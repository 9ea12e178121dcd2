"""The main job: distil, show the library, compare held-out accuracy with and without it.

Runs fully offline on a CPU with the embedded default pair (Qwen2.5-Coder-0.5B student,
Qwen2.5-Coder-1.5B teacher) on the bundled BIG-bench ``object_counting`` task, the task
with the largest teacher-student gap on the training splits (``benchmarks/pairs.py``).
Lessons are written under a grammar and each is tried on the student before it enters:

    python examples/quickstart.py

Every number it prints is measured in that run. Options: ``python examples/quickstart.py -h``.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from ted_graph import ExperienceLibrary, distill, evaluate, load_chat_model, load_dataset
from ted_graph.data import split
from ted_graph.library import format_table
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", default="bigbench:object_counting", help="dataset (file or bundled task)"
    )
    parser.add_argument("--train", type=int, default=8, help="training problems")
    parser.add_argument("--test", type=int, default=60, help="held-out problems")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("-n", type=int, default=4, help="student rollouts per problem")
    parser.add_argument("--batch-size", type=int, default=8, help="problems per distillation step")
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    parser.add_argument("--teacher", default=DEFAULT_TEACHER)
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.time()
    train, test = split(load_dataset(args.task), train=args.train, test=args.test, seed=args.seed)
    print(f"[data] {args.task}: {len(train)} training problems, {len(test)} held-out problems")

    t0 = time.time()
    student = load_chat_model(args.student)
    teacher = load_chat_model(args.teacher)
    print(
        f"[models] student={args.student} teacher={args.teacher} loaded in {time.time() - t0:.0f}s"
    )

    library_dir = args.out / "library"
    shutil.rmtree(library_dir, ignore_errors=True)  # every run starts from an empty library
    library = ExperienceLibrary(library_dir)
    result = distill(
        student,
        teacher,
        train,
        library=library,
        epochs=args.epochs,
        n=args.n,
        batch_size=args.batch_size,
        seed=args.seed,
        student_max_tokens=320,
        teacher_max_tokens=384,
        verify=True,
        verify_problems=2,
    )
    result.save(args.out / "result")
    print(f"[distill] {result.summary()}")
    print(f"\n[library] {len(library)} active experience(s) in {library_dir}")
    if len(library):
        print(format_table(library.all()))

    print()
    base = evaluate(student, test, max_tokens=320, desc="held-out, student alone")
    ted = evaluate(
        student,
        test,
        library=library,
        k=result.config.k,
        max_tokens=320,
        desc="held-out, with experiences",
    )
    used = sum(1 for p in ted.predictions if p["experience_ids"])
    print(f"\n[result] held-out accuracy on {len(test)} problems ({args.task})")
    print(f"  student alone:          {base}")
    print(f"  student + experiences:  {ted}   ({used}/{len(test)} prompts had experiences)")
    diff, low, high = ted.compare(base)
    print(
        f"  difference:             {diff:+.3f} (95% paired bootstrap CI {low:+.3f} to {high:+.3f})"
    )
    tokens = sum(u["total_tokens"] for u in result.usage.values())
    cost = f"{result.seconds:.0f}s, {tokens:,} tokens (prompts + completions)"
    print(f"  cost of distilling:     {cost}")
    if low > 0:
        print("  TED helped: the student is better with the experiences (interval above zero).")
    elif high < 0:
        print("  TED hurt: the student is worse with the experiences (interval below zero).")
    else:
        print("  No measurable effect on this run: the interval includes zero.")
    print(f"[done] {time.time() - started:.0f}s in all; saved to {args.out}")


if __name__ == "__main__":
    main()
