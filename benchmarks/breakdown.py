"""Where a distillation run's time goes: student, teacher, embedding, Chroma, the rest.

    python benchmarks/breakdown.py                       # object_counting, 8 problems
    python benchmarks/breakdown.py --task logical_deduction --train 8

Runs one distillation with the settings of ``benchmarks/conditions.py`` and records the
start and end of every model generation (``track_usage``), every call of the
sentence-transformers embedder, and every library call (Chroma plus the library's own
bookkeeping). Problems run concurrently, so per-category times overlap: the table gives
each category's *busy* time (the union of its intervals) and the orchestration overhead,
the part of the wall time during which none of them was running (LangGraph scheduling,
prompt rendering, answer parsing, Python glue). For llama.cpp models it also records each
engine's prefill and decode tokens and seconds. ``--placement`` and ``--top-k`` change
those engines' weight placement and sampling (to measure a step before and after a change
of the defaults).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import platform
import random
import threading
import time
from pathlib import Path
from typing import Any

from ted_graph import ExperienceLibrary, distill, load_dataset
from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.models import (
    DEFAULT_STUDENT,
    DEFAULT_TEACHER,
    ChatLlamaCppBatched,
    load_chat_model,
    model_name,
    track_usage,
)
from ted_graph.models.llamacpp_cpu import PLACEMENTS
from ted_graph.models.usage import busy_seconds

HERE = Path(__file__).resolve().parent
LIBRARY_METHODS = (
    "search",
    "all",
    "get",
    "add",
    "update",
    "remove",
    "merge",
    "record_usage",
    "similar_pairs",
    "__len__",
)


class Timeline:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intervals: dict[str, list[tuple[float, float]]] = {}
        self.depth = threading.local()

    def wrap(self, category: str, func: Any) -> Any:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self.depth, category, 0)
            setattr(self.depth, category, depth + 1)
            start = time.time()
            try:
                return func(*args, **kwargs)
            finally:
                setattr(self.depth, category, depth)
                if depth == 0:  # nested library calls count once
                    with self.lock:
                        self.intervals.setdefault(category, []).append((start, time.time()))

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="object_counting")
    parser.add_argument("--train", type=int, default=8)
    parser.add_argument("--student", default=DEFAULT_STUDENT)
    parser.add_argument("--teacher", default=DEFAULT_TEACHER)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--placement", choices=PLACEMENTS, help="llama.cpp weight placement (default: auto)"
    )
    parser.add_argument("--top-k", type=int, help="llama.cpp sampling top-k (default: 64)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "breakdown.json")
    args = parser.parse_args()

    problems = load_dataset(f"bigbench:{args.task}")
    order = list(range(len(problems)))
    random.Random(args.seed).shuffle(order)  # the same training split as conditions.py
    train = [problems[i] for i in order[: args.train]]

    timeline = Timeline()
    SentenceTransformerEmbedding.__call__ = timeline.wrap(  # type: ignore[method-assign]
        "embedding", SentenceTransformerEmbedding.__call__
    )
    for name in LIBRARY_METHODS:
        setattr(ExperienceLibrary, name, timeline.wrap("library", getattr(ExperienceLibrary, name)))

    def load(spec: str) -> Any:
        model = load_chat_model(spec)
        if isinstance(model, ChatLlamaCppBatched):  # before its engine is made
            changes = {"placement": args.placement, "top_k": args.top_k}
            model = model.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return model

    student, teacher = load(args.student), load(args.teacher)
    library = ExperienceLibrary.in_memory()
    # load both engines before the clock starts (the first call loads a model's weights)
    student.invoke("Hi")
    teacher.invoke("Hi")
    engines = {
        role: model.engine
        for role, model in (("student", student), ("teacher", teacher))
        if isinstance(model, ChatLlamaCppBatched)
    }
    before = {role: dataclasses.replace(engine.stats) for role, engine in engines.items()}
    started = time.time()
    with track_usage() as meter:
        result = distill(
            student,
            teacher,
            train,
            library=library,
            epochs=args.epochs,
            n=args.rollouts,
            batch_size=args.batch_size,
            seed=args.seed,
        )
    wall = time.time() - started
    work = {}
    for role, engine in engines.items():
        done = engine.stats.since(before[role])
        row: dict[str, Any] = {"placement": engine.placement}
        for phase in ("prefill", "decode"):
            tokens = getattr(done, f"{phase}_tokens")
            seconds = getattr(done, f"{phase}_seconds")
            row[f"{phase}_tokens"] = tokens
            row[f"{phase}_seconds"] = round(seconds, 2)
            row[f"{phase}_tok_s"] = round(tokens / seconds, 1) if seconds else None
        work[role] = row
    roles = {model_name(student): "student", model_name(teacher): "teacher"}
    categories: dict[str, list[tuple[float, float]]] = {}
    for name, usage in meter.models.items():
        categories.setdefault(roles.get(name, name), []).extend(usage.intervals)
    categories.update(timeline.intervals)
    everything = [iv for ivs in categories.values() for iv in ivs]
    categories.setdefault("embedding", [])  # an empty library skips embedding entirely
    rows = {name: busy_seconds(ivs) for name, ivs in categories.items()}
    # Chroma and the library's bookkeeping, excluding the embedding done inside it: the
    # time the library or the embedder ran, less the embedder's (it also embeds outside
    # library calls, so subtracting its time from the library's alone can go below zero)
    if "library" in rows:
        rows.pop("library")
        both = categories["library"] + categories["embedding"]
        rows["library (Chroma, excl. embedding)"] = busy_seconds(both) - rows["embedding"]
    overhead = wall - busy_seconds(everything)
    report = {
        "command": "python benchmarks/breakdown.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k != "out" and v is not None
        ),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "wall_seconds": round(wall, 2),
        "busy_seconds": {k: round(v, 2) for k, v in rows.items()},
        "overhead_seconds": round(overhead, 2),
        "overhead_fraction": round(overhead / wall, 4),
        "calls": {k: len(v) for k, v in categories.items()},
        "usage": meter.to_dict(),
        "engines": work,
        "steps": len(result.history),
        "library_size": len(library),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwall {wall:.1f} s for {args.train} problems ({len(result.history)} steps)")
    print("| part | busy s | share of wall | calls |")
    print("|---|---:|---:|---:|")
    for name, secs in sorted(rows.items(), key=lambda kv: -kv[1]):
        calls = len(categories.get(name.split(" ")[0], []))
        print(f"| {name} | {secs:.2f} | {secs / wall:.1%} | {calls} |")
    print(
        f"| orchestration overhead (nothing above running) | {overhead:.2f} | "
        f"{overhead / wall:.1%} | |"
    )
    if work:
        print("\n| engine | placement | prefill tokens | s | tok/s | decode tokens | s | tok/s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for role, row in work.items():
            print(
                f"| {role} | {row['placement']} | {row['prefill_tokens']} | "
                f"{row['prefill_seconds']} | {row['prefill_tok_s']} | {row['decode_tokens']} | "
                f"{row['decode_seconds']} | {row['decode_tok_s']} |"
            )


if __name__ == "__main__":
    main()
