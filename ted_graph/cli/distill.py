"""``ted distill``: experiences from a dataset into the library."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from ted_graph.cli import options
from ted_graph.cli.app import cli
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER


@cli.command()
@click.argument("dataset")
@options.library_options
@click.option("--student", default=DEFAULT_STUDENT, show_default=True, help="Student model spec.")
@click.option("--teacher", default=DEFAULT_TEACHER, show_default=True, help="Teacher model spec.")
@click.option(
    "--epochs",
    default=options.DEFAULTS.epochs,
    show_default=True,
    type=click.IntRange(1),
    help="Passes over the training problems.",
)
@click.option(
    "--batch-size",
    default=options.DEFAULTS.batch_size,
    show_default=True,
    type=click.IntRange(1),
    help="Problems per step (written together).",
)
@click.option(
    "-n",
    "--rollouts",
    "n",
    default=options.DEFAULTS.n,
    show_default=True,
    type=click.IntRange(1),
    help="Student rollouts per problem.",
)
@options.top_k_option
@options.examples_option
@options.min_similarity_option
@click.option(
    "--temperature",
    default=options.DEFAULTS.temperature,
    show_default=True,
    type=click.FloatRange(0),
    help="Student sampling temperature.",
)
@click.option(
    "--student-max-tokens",
    default=options.DEFAULTS.student_max_tokens,
    show_default=True,
    type=click.IntRange(1),
    help="New tokens per student rollout.",
)
@click.option(
    "--teacher-max-tokens",
    default=options.DEFAULTS.teacher_max_tokens,
    show_default=True,
    type=click.IntRange(1),
    help="New tokens per teacher answer.",
)
@click.option(
    "--validation",
    default=options.DEFAULTS.validation,
    show_default=True,
    type=click.IntRange(0),
    help="Hold this many training problems out, score the library on them after every "
    "step, and keep its best version (0: off).",
)
@click.option(
    "--valset",
    default=None,
    metavar="DATASET",
    help="Keep the library's best version on these problems instead (a dataset as for "
    "DATASET, apart from it; --validation must then be 0).",
)
@click.option(
    "--group-critique",
    default=options.DEFAULTS.group_critique,
    show_default=True,
    type=click.IntRange(0),
    help="Wrong problems of a step the teacher compares side by side, once per step, to "
    "state the rules that decide them (0: off).",
)
@click.option(
    "--verify/--no-verify",
    default=options.DEFAULTS.verify,
    show_default=True,
    help="Try each lesson on the student before it enters (--no-verify: the paper's "
    "path, every valid lesson enters).",
)
@click.option(
    "--generation-batch-size",
    default=None,
    type=click.IntRange(1),
    help="Sequences per forward pass (llama.cpp: parallel slots, default 16; transformers: "
    "default 64 in bfloat16 or on a GPU, 8 in float32 on a CPU).",
)
@click.option(
    "--max-size",
    default=options.DEFAULTS.max_size,
    show_default=True,
    type=click.IntRange(1),
    help="Most active experiences kept by compression.",
)
@click.option(
    "--compress-every",
    default=options.DEFAULTS.compress_every,
    show_default=True,
    type=click.IntRange(0),
    help="Compress every N steps (0: only when the library exceeds --max-size).",
)
@click.option(
    "--limit",
    default=None,
    type=click.IntRange(1),
    help="Use only the first N problems of the dataset.",
)
@options.skip_bad_rows_option
@click.option(
    "--seed",
    default=options.DEFAULTS.seed,
    show_default=True,
    type=int,
    help="Seed of the batch order and student sampling.",
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also save the result (history, settings, export) to this folder.",
)
@click.option(
    "--checkpoint",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Make the run durable: checkpoint it in this SQLite file. Run the same command "
    "again after a crash to resume from the last finished step.",
)
@click.option(
    "--thread",
    "thread_id",
    default="distill",
    show_default=True,
    help="Name of the run inside the checkpoint file.",
)
def distill(
    dataset: str,
    store: options.LibraryOptions,
    student: str,
    teacher: str,
    limit: int | None,
    skip_bad_rows: bool,
    save_dir: Path | None,
    checkpoint: Path | None,
    thread_id: str,
    generation_batch_size: int | None,
    valset: str | None,
    **settings: Any,
) -> None:
    """Distil experiences from DATASET into the library.

    DATASET is a JSONL file of {"id", "question", "answer", "choices"?, "accepted"?,
    "images"?} rows, a BIG-bench task.json, or a bundled task: bigbench:logical_deduction,
    bigbench:date_understanding, bigbench:object_counting,
    bigbench:tracking_shuffled_objects, bigbench:geometric_shapes, and with images
    bigbench:geometric_shapes_rendered and easy-vqa:train / easy-vqa:test (the vqa extra).

    A reasoning-gym task (the gym extra) is drawn from its seeded generator and graded by
    the task's own scorer: reasoning-gym:<task>?size=<N>&seed=<S>&<config field>=<value>,
    for example (quote it in a shell):

    \b
        ted distill 'reasoning-gym:time_intervals?size=30&seed=7'
        ted eval 'reasoning-gym:time_intervals?size=300&seed=1001'
    """
    from ted_graph.distillation.run import CheckpointMismatch
    from ted_graph.distillation.run import distill as run_distill

    problems = options.load_problems(dataset, limit, skip_bad_rows)
    held_out = options.load_problems(valset, None, skip_bad_rows) if valset else None
    if held_out is not None and settings.get("validation"):
        options.fail("--valset and --validation both choose a validation split: pass one of them")
    if held_out is not None and (
        shared := {p["id"] for p in held_out} & {p["id"] for p in problems}
    ):
        example = min(shared)
        options.fail(f"--valset shares {len(shared)} problem(s) with DATASET (e.g. {example!r})")
    if generation_batch_size:
        settings["generation_batch_size"] = generation_batch_size
    load_student = functools.cache(lambda: options.load_model(student, generation_batch_size))
    lib = store.open(student=load_student)
    before = len(lib)
    student_model = load_student()
    teacher_model = options.load_model(teacher, generation_batch_size)
    try:
        result = run_distill(
            student_model,
            teacher_model,
            problems,
            library=lib,
            checkpointer=checkpoint,
            thread_id=thread_id,
            valset=held_out,
            **settings,
        )
    except CheckpointMismatch as exc:
        options.fail(str(exc))
    click.echo(result.summary())
    click.echo(f"library: {lib!r}: {before} -> {len(lib)} active experiences")
    if save_dir:
        result.save(save_dir)
        click.echo(f"saved to {save_dir}")
