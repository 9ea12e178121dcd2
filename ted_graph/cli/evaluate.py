"""``ted eval``: a student's accuracy on a dataset, with or without the library."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from ted_graph.cli import options
from ted_graph.cli.app import cli
from ted_graph.models import DEFAULT_STUDENT


@cli.command("eval")
@click.argument("dataset")
@options.library_options
@click.option("--student", default=DEFAULT_STUDENT, show_default=True, help="Student model spec.")
@click.option("--no-library", is_flag=True, help="Evaluate the student alone (no experiences).")
@click.option(
    "--experiences",
    "injection",
    type=click.Choice(["retrieved", "all"]),
    default="retrieved",
    show_default=True,
    help="retrieved: each prompt gets its top-k experiences (TED); all: every active "
    "experience in every prompt (Training-Free GRPO).",
)
@options.answer_options
@click.option(
    "--batch-size",
    default=None,
    type=click.IntRange(1),
    help="Sequences per forward pass (llama.cpp: parallel slots, default 16; transformers: "
    "default 8 on a CPU, 64 on a GPU).",
)
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N problems.")
@options.skip_bad_rows_option
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write per-item predictions to this JSONL file.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the summary (accuracy, interval, tokens, time) and predictions to this JSON "
    "file; reopen it with EvalResult.load.",
)
def eval_cmd(
    dataset: str,
    store: options.LibraryOptions,
    student: str,
    no_library: bool,
    injection: str,
    k: int,
    examples: int,
    min_similarity: float,
    max_tokens: int,
    batch_size: int | None,
    limit: int | None,
    skip_bad_rows: bool,
    predictions: Path | None,
    output: Path | None,
) -> None:
    """Accuracy of the student on DATASET, with the library's experiences or without.

    DATASET is any dataset ``ted distill`` takes, a reasoning-gym spec included
    ('reasoning-gym:<task>?size=<N>&seed=<S>&<config field>=<value>'). Prints the accuracy
    with its 95% Wilson interval, and the prompt and completion tokens and wall time per
    item.
    """
    from ted_graph.distillation.evaluation import evaluate

    problems = options.load_problems(dataset, limit, skip_bad_rows)
    lib = None
    load_student = functools.cache(lambda: options.load_model(student, batch_size))
    if not no_library:
        if store.missing():
            options.fail(f"no library at {store.path} (use --no-library to evaluate without one)")
        lib = store.open(student=load_student)
    model = load_student()
    result = evaluate(
        model,
        problems,
        library=lib,
        experiences=injection,  # type: ignore[arg-type]
        k=k,
        examples=examples,
        min_similarity=min_similarity,
        max_tokens=max_tokens,
        batch_size=batch_size,
    )
    how = {"retrieved": "with retrieved experiences", "all": "with all experiences"}
    click.echo(f"accuracy: {result} ({how.get(result.experiences, 'without experiences')})")
    per = result.per_item()
    estimate = " (estimated)" if result.tokens_estimated else ""
    click.echo(
        f"per item: {per['prompt_tokens']:.0f} prompt + {per['completion_tokens']:.0f} "
        f"completion tokens{estimate}, {per['seconds']:.3f} s wall "
        f"(retrieval {per['retrieval_ms']:.1f} ms); {result.seconds:.1f} s in all"
    )
    if output:
        result.save(output)
    if predictions:
        predictions.parent.mkdir(parents=True, exist_ok=True)
        with predictions.open("w", encoding="utf-8") as fh:
            for row in result.predictions:
                fh.write(json.dumps(row) + "\n")
