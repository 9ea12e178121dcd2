"""Retrieval latency: one student-prompt retrieval (embed + Chroma query) at library sizes.

    python benchmarks/retrieval.py [--sizes 100 1000 10000] [--queries 200]

Fills a persistent Chroma library in a temporary folder with distinct synthetic
experiences (embedded in batches; insertion is not timed), then times ``retrieve_experiences``
for real BIG-bench questions, k=5, as the student does before every rollout and every
served request. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time

from ted_graph import ExperienceLibrary, load_dataset
from ted_graph.library.experience import Experience, experience_id
from ted_graph.library.prompting import retrieve_experiences

SITUATIONS = [
    "counting listed objects",
    "ordering objects from clues",
    "computing a date offset",
    "tracking swapped items",
    "reading a multiple-choice question",
    "comparing quantities",
    "converting units",
    "solving a word problem",
    "checking an answer",
    "parsing a table",
]
ADVICE = [
    "write every fact down first",
    "work one clue at a time",
    "re-read the question",
    "check the month lengths",
    "count each named item once",
    "eliminate impossible options",
    "draw the order as a line",
    "keep a running total",
    "restate the goal",
    "verify the last step",
]


def synthetic(i: int, rng: random.Random) -> str:
    return (
        f"When {rng.choice(SITUATIONS)} (case {i}), {rng.choice(ADVICE)} and {rng.choice(ADVICE)}."
    )


def fill(library: ExperienceLibrary, size: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    texts = [synthetic(i, rng) for i in range(size)]
    for start in range(0, size, 1000):  # Chroma's add batches; embedding happens here
        chunk = texts[start : start + 1000]
        exps = [Experience(id=experience_id(t), text=t) for t in chunk]
        library.collection.add(
            ids=[e.id for e in exps], documents=chunk, metadatas=[e.to_metadata() for e in exps]
        )


def bigbench_questions(per_task: int, *, seed: int) -> list[dict]:
    """Real questions: the first ``per_task`` of three BIG-bench tasks, shuffled."""
    questions = [
        p
        for t in ("logical_deduction", "date_understanding", "object_counting")
        for p in load_dataset(f"bigbench:{t}", limit=per_task)
    ]
    random.Random(seed).shuffle(questions)
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    questions = bigbench_questions(args.queries, seed=1)
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}"
    )
    print("| experiences | queries | median ms | p90 ms | p99 ms | embed-only median ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            library = ExperienceLibrary(folder)
            fill(library, size)
            retrieve_experiences(library, questions[0], k=5, min_similarity=0.0, max_tokens=400)
            times, embeds = [], []
            for problem in questions[: args.queries]:
                t0 = time.perf_counter()
                got = retrieve_experiences(
                    library, problem, k=5, min_similarity=0.0, max_tokens=400
                )
                times.append((time.perf_counter() - t0) * 1000)
                assert got, "retrieval returned nothing"
                t0 = time.perf_counter()
                library.embedding_function([problem["question"]])
                embeds.append((time.perf_counter() - t0) * 1000)
            q = statistics.quantiles(times, n=100)
            print(
                f"| {size:,} | {len(times)} | {statistics.median(times):.1f} | {q[89]:.1f} | "
                f"{q[98]:.1f} | {statistics.median(embeds):.1f} |"
            )


if __name__ == "__main__":
    main()
