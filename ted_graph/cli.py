"""The ``ted`` command line: distil, inspect, export, import, evaluate, serve."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ted_graph.config import DistillConfig
from ted_graph.experience import format_table
from ted_graph.models import DEFAULT_STUDENT, DEFAULT_TEACHER

_DEFAULTS = DistillConfig()


@dataclass(frozen=True)
class _LibraryOptions:
    """Where the library lives and how it embeds: the options every command shares."""

    path: Path
    host: str | None
    port: int
    collection: str
    embedder: str
    image_retrieval: str
    captioner: str | None

    def missing(self) -> bool:
        """A local library directory that does not exist (a server is never missing)."""
        return not self.host and not self.path.exists()

    def open(self, student: Callable[[], Any] | None = None) -> Any:
        """The library. ``caption`` retrieval loads ``--captioner``, else calls ``student``
        (a loader, so that a command loads its models after the library's cheap checks);
        commands that never search pass no student and skip the captioner."""
        from ted_graph.library import ExperienceLibrary
        from ted_graph.retrieval import ImageRetrieval

        mode, captioner = self.image_retrieval, None
        if mode == "caption":
            if student is None:
                mode = "text"  # inspect, export, import: nothing is captioned
            else:
                captioner = _model(self.captioner, None) if self.captioner else student()
        try:
            images = ImageRetrieval(mode, captioner=captioner)  # type: ignore[arg-type]
            kwargs = {"collection": self.collection, "embedder": self.embedder, "images": images}
            if self.host:
                return ExperienceLibrary.connect(self.host, self.port, **kwargs)
            return ExperienceLibrary(self.path, **kwargs)
        except (ValueError, RuntimeError) as exc:
            _fail(str(exc))


def _model(spec: str, batch_size: int | None) -> Any:
    """Load a model spec; ``batch_size`` sets a llama.cpp model's parallel sequences."""
    from ted_graph.models import is_local_text_spec, load_chat_model, resolve_backend

    try:
        if not is_local_text_spec(spec):
            return load_chat_model(spec)
        backend, _ = resolve_backend(spec)
        kwargs = {"n_parallel": batch_size} if batch_size and backend == "llamacpp" else {}
        return load_chat_model(spec, **kwargs)
    except (ValueError, FileNotFoundError, ImportError, ConnectionError) as exc:
        _fail(str(exc))


def _library_options(func: Any) -> Any:
    """The shared library options, handed to the command as one ``store`` argument."""
    options = [
        click.option(
            "--library",
            "-l",
            "library_path",
            type=click.Path(path_type=Path),
            default=Path("ted-library"),
            show_default=True,
            help="Directory of the persistent experience library (Chroma).",
        ),
        click.option(
            "--chroma-host",
            default=None,
            help="Use a Chroma server (`chroma run`) at this host instead of a directory.",
        ),
        click.option(
            "--chroma-port",
            default=8000,
            show_default=True,
            type=int,
            help="Port of the Chroma server.",
        ),
        click.option(
            "--collection",
            default="ted_experiences",
            show_default=True,
            help="Chroma collection holding the experiences.",
        ),
        click.option(
            "--embedder",
            default="all-MiniLM-L6-v2",
            show_default=True,
            help="sentence-transformers model name or folder used to embed experiences "
            "(a CLIP-style one, e.g. clip-ViT-B-32, also embeds images).",
        ),
        click.option(
            "--image-retrieval",
            type=click.Choice(["auto", "text", "image", "caption"]),
            default="auto",
            show_default=True,
            help="How a problem's images take part in retrieval: text only, embedded with "
            "the text (CLIP-style --embedder), or captioned into the query; auto picks image "
            "for a CLIP-style embedder, else text.",
        ),
        click.option(
            "--captioner",
            default=None,
            help="Model spec that captions images for --image-retrieval caption "
            "(default: the student).",
        ),
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        kwargs["store"] = _LibraryOptions(
            path=kwargs.pop("library_path"),
            host=kwargs.pop("chroma_host"),
            port=kwargs.pop("chroma_port"),
            collection=kwargs.pop("collection"),
            embedder=kwargs.pop("embedder"),
            image_retrieval=kwargs.pop("image_retrieval"),
            captioner=kwargs.pop("captioner"),
        )
        return func(**kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _min_similarity_option(func: Any) -> Any:
    return click.option(
        "--min-similarity",
        default=_DEFAULTS.min_similarity,
        show_default=True,
        type=click.FloatRange(-1.0, 1.0),
        help="Cosine similarity below which an experience is not retrieved (lower it for "
        "CLIP-style embedders, whose text-image similarities are small).",
    )(func)


def _answer_options(func: Any) -> Any:
    """``-k/--top-k``, ``--examples``, ``--min-similarity`` and ``--max-tokens``, shared by
    the commands that answer questions."""
    func = _min_similarity_option(func)
    func = _examples_option(func)
    func = click.option(
        "--max-tokens",
        default=_DEFAULTS.student_max_tokens,
        show_default=True,
        type=click.IntRange(1),
        help="New tokens per answer.",
    )(func)
    return _top_k_option(func)


_top_k_option = click.option(
    "-k",
    "--top-k",
    "k",
    default=_DEFAULTS.k,
    show_default=True,
    type=click.IntRange(0),
    help="Experiences retrieved into each prompt.",
)


_examples_option = click.option(
    "--examples",
    default=_DEFAULTS.examples,
    show_default=True,
    type=click.IntRange(0),
    help="Worked examples (the teacher's right solutions of the most similar training "
    "problems) put into each prompt; 0: lessons only.",
)


def _fail(message: str) -> None:
    raise click.ClickException(message)


_skip_bad_rows_option = click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Skip rows of DATASET that fail validation (each is reported) instead of stopping "
    "before anything runs.",
)


def _load(dataset: str, limit: int | None, skip_bad_rows: bool) -> list[Any]:
    """The dataset's problems; bad rows stop the command, or are skipped and reported."""
    from ted_graph.data import DatasetError, load_dataset

    skipped: list[DatasetError] = []
    try:
        problems = load_dataset(
            dataset, limit=limit, on_bad_row=skipped.append if skip_bad_rows else None
        )
    except DatasetError as exc:
        hint = "" if skip_bad_rows else "\n(--skip-bad-rows skips bad rows and reports them)"
        _fail(f"{exc}{hint}")
    for exc in skipped:
        click.echo(f"skipped: {exc}", err=True)
    if skipped:
        click.echo(f"skipped {len(skipped)} bad row(s); {len(problems)} loaded", err=True)
    if not problems:
        _fail(f"{dataset}: no valid problems")
    return problems


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.version_option(package_name="ted-graph")
def cli(verbose: int) -> None:
    """ted-graph: Training-Free Experience Distillation for LangGraph.

    A teacher model writes short, general experiences into a Chroma library from its
    comparison of a student's attempts with its own; the student then reads the relevant
    ones in its prompt. Models are local specs (smollm2-135m, qwen2.5-coder-0.5b,
    qwen2.5-coder-1.5b, a folder, a .gguf file or a hub id) or OpenAI-compatible servers
    (openai:MODEL@http://host:port/v1, or the bare URL).
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("dataset")
@_library_options
@click.option("--student", default=DEFAULT_STUDENT, show_default=True, help="Student model spec.")
@click.option("--teacher", default=DEFAULT_TEACHER, show_default=True, help="Teacher model spec.")
@click.option(
    "--epochs",
    default=_DEFAULTS.epochs,
    show_default=True,
    type=click.IntRange(1),
    help="Passes over the training problems.",
)
@click.option(
    "--batch-size",
    default=_DEFAULTS.batch_size,
    show_default=True,
    type=click.IntRange(1),
    help="Problems per step (written together).",
)
@click.option(
    "-n",
    "--rollouts",
    "n",
    default=_DEFAULTS.n,
    show_default=True,
    type=click.IntRange(1),
    help="Student rollouts per problem.",
)
@_top_k_option
@_examples_option
@_min_similarity_option
@click.option(
    "--temperature",
    default=_DEFAULTS.temperature,
    show_default=True,
    type=click.FloatRange(0),
    help="Student sampling temperature.",
)
@click.option(
    "--student-max-tokens",
    default=_DEFAULTS.student_max_tokens,
    show_default=True,
    type=click.IntRange(1),
    help="New tokens per student rollout.",
)
@click.option(
    "--teacher-max-tokens",
    default=_DEFAULTS.teacher_max_tokens,
    show_default=True,
    type=click.IntRange(1),
    help="New tokens per teacher answer.",
)
@click.option(
    "--validation",
    default=_DEFAULTS.validation,
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
    default=_DEFAULTS.group_critique,
    show_default=True,
    type=click.IntRange(0),
    help="Wrong problems of a step the teacher compares side by side, once per step, to "
    "state the rules that decide them (0: off).",
)
@click.option(
    "--verify/--no-verify",
    default=_DEFAULTS.verify,
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
    default=_DEFAULTS.max_size,
    show_default=True,
    type=click.IntRange(1),
    help="Most active experiences kept by compression.",
)
@click.option(
    "--compress-every",
    default=_DEFAULTS.compress_every,
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
@_skip_bad_rows_option
@click.option(
    "--seed",
    default=_DEFAULTS.seed,
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
    store: _LibraryOptions,
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
    """
    from ted_graph.distill import CheckpointMismatch
    from ted_graph.distill import distill as run_distill

    problems = _load(dataset, limit, skip_bad_rows)
    held_out = _load(valset, None, skip_bad_rows) if valset else None
    if held_out is not None and settings.get("validation"):
        _fail("--valset and --validation both choose a validation split: pass one of them")
    if held_out is not None and (
        shared := {p["id"] for p in held_out} & {p["id"] for p in problems}
    ):
        _fail(f"--valset shares {len(shared)} problem(s) with DATASET (e.g. {min(shared)!r})")
    if generation_batch_size:
        settings["generation_batch_size"] = generation_batch_size
    load_student = functools.cache(lambda: _model(student, generation_batch_size))
    lib = store.open(student=load_student)
    before = len(lib)
    student_model = load_student()
    teacher_model = _model(teacher, generation_batch_size)
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
        _fail(str(exc))
    click.echo(result.summary())
    click.echo(f"library: {lib!r}: {before} -> {len(lib)} active experiences")
    if save_dir:
        result.save(save_dir)
        click.echo(f"saved to {save_dir}")


@cli.command()
@_library_options
@click.option("--all", "show_all", is_flag=True, help="Include removed and merged experiences.")
@click.option(
    "--sort",
    type=click.Choice(["utility", "retrieved", "created"]),
    default="utility",
    show_default=True,
    help="Order of the listing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
def inspect(
    store: _LibraryOptions,
    show_all: bool,
    sort: str,
    as_json: bool,
) -> None:
    """List the experiences in the library with their usage statistics."""
    if store.missing():
        _fail(f"no library at {store.path}")
    lib = store.open()
    exps = lib.all(status=None if show_all else "active")
    keys = {
        "utility": lambda e: -e.utility(),
        "retrieved": lambda e: -e.retrieved,
        "created": lambda e: (e.created_step, e.id),
    }
    exps.sort(key=keys[sort])
    if as_json:
        click.echo(json.dumps([e.to_dict() | {"utility": e.utility()} for e in exps], indent=2))
        return
    click.echo(f"{len(exps)} experience(s) in {lib!r}")
    if exps:
        click.echo(format_table(exps))


@cli.command("export")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@_library_options
@click.option("--active-only", is_flag=True, help="Export only active experiences.")
def export_cmd(
    output: Path,
    store: _LibraryOptions,
    active_only: bool,
) -> None:
    """Export the library to a JSON file OUTPUT (shareable, re-embedded on import)."""
    if store.missing():
        _fail(f"no library at {store.path}")
    lib = store.open()
    count = lib.export_json(output, status="active" if active_only else None)
    click.echo(f"exported {count} experience(s) to {output}")


@cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_library_options
def import_cmd(
    source: Path,
    store: _LibraryOptions,
) -> None:
    """Import experiences from an exported JSON file SOURCE into the library."""
    lib = store.open()
    try:
        count = lib.import_json(source)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"imported {count} experience(s); {len(lib)} active in {lib!r}")


@cli.command("eval")
@click.argument("dataset")
@_library_options
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
@_answer_options
@click.option(
    "--batch-size",
    default=None,
    type=click.IntRange(1),
    help="Sequences per forward pass (llama.cpp: parallel slots, default 16; transformers: "
    "default 8 on a CPU, 64 on a GPU).",
)
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N problems.")
@_skip_bad_rows_option
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
    store: _LibraryOptions,
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

    Prints the accuracy with its 95% Wilson interval, and the prompt and completion tokens
    and wall time per item.
    """
    from ted_graph.evaluate import evaluate

    problems = _load(dataset, limit, skip_bad_rows)
    lib = None
    load_student = functools.cache(lambda: _model(student, batch_size))
    if not no_library:
        if store.missing():
            _fail(f"no library at {store.path} (use --no-library to evaluate without one)")
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


@cli.command()
@click.argument("questions")
@_library_options
@click.option("--student", default=DEFAULT_STUDENT, show_default=True, help="Student model spec.")
@click.option(
    "--teacher",
    default=None,
    help="With --learn, a teacher model spec: wrong answers then become new experiences.",
)
@click.option(
    "--learn",
    is_flag=True,
    help="Send each row's 'answer' as feedback: usage statistics (and, with --teacher, "
    "experiences) learn from the batch.",
)
@_answer_options
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1),
    help="Questions in flight at once (their generations are batched together).",
)
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N questions.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write answers to this JSONL file (default: standard output).",
)
def serve(
    questions: str,
    store: _LibraryOptions,
    student: str,
    teacher: str | None,
    learn: bool,
    k: int,
    examples: int,
    min_similarity: float,
    max_tokens: int,
    concurrency: int,
    limit: int | None,
    output: Path | None,
) -> None:
    """Answer QUESTIONS with the student and the library's experiences.

    QUESTIONS is a JSONL file of {"question", "id"?, "choices"?, "answer"?} rows, a
    bundled task, or - to read standard input (one JSON object or plain question per
    line). Each answer is written as a JSON line: id, answer, response, experiences used
    (and, with --learn, whether it was correct). For an HTTP service, run the serving
    graph on LangGraph Server (see langgraph.json).
    """
    from ted_graph.data import DatasetError
    from ted_graph.serving import create_serving_graph, read_questions, serve_batch, write_rows

    if teacher and not learn:
        _fail("--teacher is only used with --learn")
    try:
        problems = read_questions(questions, limit=limit)
    except DatasetError as exc:
        _fail(str(exc))
    if store.missing():
        _fail(f"no library at {store.path} (distil one first, or point --library at one)")
    load_student = functools.cache(lambda: _model(student, concurrency))
    lib = store.open(student=load_student)
    graph = create_serving_graph(
        load_student(),
        lib,
        teacher=_model(teacher, None) if teacher else None,
        k=k,
        min_similarity=min_similarity,
        examples=examples,
        max_new_tokens=max_tokens,
    ).compile()
    rows = write_rows(
        serve_batch(graph, problems, learn=learn, max_concurrency=concurrency), output
    )
    graded = [r["correct"] for r in rows if r.get("correct") is not None]
    note = f"; {sum(graded)}/{len(graded)} correct" if graded else ""
    click.echo(f"answered {len(rows)} question(s){note}", err=True)


def main() -> None:
    cli(prog_name="ted")


if __name__ == "__main__":
    sys.exit(main())
