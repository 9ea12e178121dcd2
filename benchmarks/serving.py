"""Serving overhead per request: what TED adds to a served answer, generation excluded.

    python benchmarks/serving.py [--size 1000] [--requests 200]

A persistent Chroma library is filled with ``--size`` distinct synthetic experiences (as in
``benchmarks/retrieval.py``; insertion is not timed). For real BIG-bench questions it
times, per request:

* **retrieval + prompt assembly**: ``retrieve_experiences`` (embed the question, query
  Chroma, apply the token budget) and ``student_messages`` (render the system block);
* **serving graph overhead**: a full ``create_serving_graph`` run with the embedded student
  (llama.cpp), minus the time its generation took (the usage meter's busy time), so what
  remains is retrieval, prompt assembly, answer extraction and LangGraph's own work.

Prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time

from retrieval import bigbench_questions, fill

from ted_graph import ExperienceLibrary, create_serving_graph, load_chat_model
from ted_graph.library.prompting import retrieve_experiences, student_messages
from ted_graph.models import DEFAULT_STUDENT, track_usage


def stats(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f"{statistics.median(times):.1f} | {q[89]:.1f} | {q[98]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--graph-requests", type=int, default=50)
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    args = parser.parse_args()

    questions = bigbench_questions(args.requests, seed=2)
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}; library: {args.size:,} experiences"
    )
    with tempfile.TemporaryDirectory() as folder:
        library = ExperienceLibrary(folder)
        fill(library, args.size)
        retrieve_experiences(library, questions[0], k=5, min_similarity=0.0, max_tokens=400)

        assembly, retrieval = [], []
        for problem in questions[: args.requests]:
            t0 = time.perf_counter()
            found = retrieve_experiences(library, problem, k=5, min_similarity=0.0, max_tokens=400)
            t1 = time.perf_counter()
            student_messages(problem, found)
            t2 = time.perf_counter()
            assert found, "retrieval returned nothing"
            retrieval.append((t1 - t0) * 1000)
            assembly.append((t2 - t0) * 1000)

        student = load_chat_model(args.student)
        app = create_serving_graph(student, library, min_similarity=0.0, max_new_tokens=8)
        graph = app.compile()
        graph.invoke({"question": questions[0]["question"]})  # warm the model
        overhead, totals = [], []
        for problem in questions[: args.graph_requests]:
            with track_usage() as meter:
                t0 = time.perf_counter()
                out = graph.invoke({"question": problem["question"]})
                total = time.perf_counter() - t0
            generation = sum(u["busy_seconds"] for u in meter.to_dict().values())
            assert out["experiences"], "the serving graph retrieved nothing"
            totals.append(total * 1000)
            overhead.append((total - generation) * 1000)

    print()
    print("| per request | requests | median ms | p90 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| retrieval (embed + Chroma query) | {len(retrieval)} | {stats(retrieval)} |")
    print(f"| retrieval + prompt assembly | {len(assembly)} | {stats(assembly)} |")
    print(f"| serving graph, generation excluded | {len(overhead)} | {stats(overhead)} |")
    print(f"| serving graph, 8-token answer included | {len(totals)} | {stats(totals)} |")


if __name__ == "__main__":
    main()
