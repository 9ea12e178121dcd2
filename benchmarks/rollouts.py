"""Cost of n student rollouts in one batched call versus one rollout.

    python benchmarks/rollouts.py [--student smollm2-135m] [--n 5] [--problems 8] [--max-tokens 128]

For each problem, times ``generate(student, [prompt], n=1)`` and ``generate(..., n=N)`` at
temperature 0.7 (the distillation setting) and counts the new tokens. Prints the wall-time
ratio (N rollouts / 1 rollout; N would mean no gain from batching) and tokens per second,
twice: as the student really answers (a batch runs until its longest rollout ends), and with
every sequence forced to the full length (the engine's batching efficiency).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from ted_graph import load_chat_model, load_dataset
from ted_graph.library.prompting import student_messages
from ted_graph.models import generate
from ted_graph.models.local import local_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--task", default="bigbench:logical_deduction")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()

    model = load_chat_model(args.student)
    backend = local_backend(model)
    tokenizer = backend[1] if backend else None
    problems = load_dataset(args.task, limit=args.problems)
    generate(model, [student_messages(problems[0])], n=1, max_tokens=8)  # warm-up

    def run(n: int, seed: int, fixed: bool) -> tuple[float, int]:
        prompt = student_messages(problems[seed])
        t0 = time.perf_counter()
        texts = generate(
            model,
            [prompt],
            n=n,
            temperature=0.7,
            max_tokens=args.max_tokens,
            seed=seed,
            min_tokens=args.max_tokens if fixed else 0,
        )[0]
        seconds = time.perf_counter() - t0
        tokens = sum(len(tokenizer(t)["input_ids"]) for t in texts) if tokenizer else 0
        return seconds, tokens

    rows = []
    for fixed in (False, True):
        ratios, one_tps, many_tps = [], [], []
        for i in range(len(problems)):
            s1, t1 = run(1, i, fixed)
            sn, tn = run(args.n, i, fixed)
            ratios.append(sn / s1)
            one_tps.append(t1 / s1)
            many_tps.append(tn / sn)
        label = f"exactly {args.max_tokens} tokens each" if fixed else "as the student answers"
        rows.append(
            f"| {label} | {args.n} | {statistics.median(ratios):.2f} | "
            f"{statistics.median(one_tps):.1f} | {statistics.median(many_tps):.1f} |"
        )
    print(
        f"machine: {platform.machine()}, python {platform.python_version()}; "
        f"student {args.student}, {len(problems)} problems of {args.task}, "
        f"at most {args.max_tokens} new tokens, temperature 0.7"
    )
    print("| generation | rollouts | median time vs 1 rollout | tokens/s (1) | tokens/s (n) |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
