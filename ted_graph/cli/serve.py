"""``ted serve``: answer a questions file with the experiences the student retrieves."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from ted_graph.cli import options
from ted_graph.cli.app import cli
from ted_graph.models import DEFAULT_STUDENT


@cli.command()
@click.argument("questions")
@options.library_options
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
@options.answer_options
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
    store: options.LibraryOptions,
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
    bundled task, a reasoning-gym spec ('reasoning-gym:<task>?size=<N>&seed=<S>', graded
    by the task's own scorer with --learn), or - to read standard input (one JSON object
    or plain question per line). Each answer is written as a JSON line: id, answer,
    response, experiences used (and, with --learn, whether it was correct). For an HTTP
    service, run the serving graph on LangGraph Server (see langgraph.json).
    """
    from ted_graph.data.loading import DatasetError
    from ted_graph.serving.graph import (
        create_serving_graph,
        read_questions,
        serve_batch,
        write_rows,
    )

    if teacher and not learn:
        options.fail("--teacher is only used with --learn")
    try:
        problems = read_questions(questions, limit=limit)
    except DatasetError as exc:
        options.fail(str(exc))
    if store.missing():
        options.fail(f"no library at {store.path} (distil one first, or point --library at one)")
    load_student = functools.cache(lambda: options.load_model(student, concurrency))
    lib = store.open(student=load_student)
    graph = create_serving_graph(
        load_student(),
        lib,
        teacher=options.load_model(teacher, None) if teacher else None,
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
