"""What the ``ted`` commands share: library and answer options, model and dataset loading."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ted_graph.config import DistillConfig

DEFAULTS = DistillConfig()


@dataclass(frozen=True)
class LibraryOptions:
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
        from ted_graph.library.library import ExperienceLibrary
        from ted_graph.library.retrieval import ImageRetrieval

        mode, captioner = self.image_retrieval, None
        if mode == "caption":
            if student is None:
                mode = "text"  # inspect, export, import: nothing is captioned
            else:
                captioner = load_model(self.captioner, None) if self.captioner else student()
        try:
            images = ImageRetrieval(mode, captioner=captioner)  # type: ignore[arg-type]
            kwargs = {"collection": self.collection, "embedder": self.embedder, "images": images}
            if self.host:
                return ExperienceLibrary.connect(self.host, self.port, **kwargs)
            return ExperienceLibrary(self.path, **kwargs)
        except (ValueError, RuntimeError) as exc:
            fail(str(exc))


def load_model(spec: str, batch_size: int | None) -> Any:
    """Load a model spec; ``batch_size`` sets a llama.cpp model's parallel sequences."""
    from ted_graph.models import is_local_text_spec, load_chat_model, resolve_backend

    try:
        if not is_local_text_spec(spec):
            return load_chat_model(spec)
        backend, _ = resolve_backend(spec)
        kwargs = {"n_parallel": batch_size} if batch_size and backend == "llamacpp" else {}
        return load_chat_model(spec, **kwargs)
    except (ValueError, FileNotFoundError, ImportError, ConnectionError) as exc:
        fail(str(exc))


def library_options(func: Any) -> Any:
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
        kwargs["store"] = LibraryOptions(
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


def min_similarity_option(func: Any) -> Any:
    return click.option(
        "--min-similarity",
        default=DEFAULTS.min_similarity,
        show_default=True,
        type=click.FloatRange(-1.0, 1.0),
        help="Cosine similarity below which an experience is not retrieved (lower it for "
        "CLIP-style embedders, whose text-image similarities are small).",
    )(func)


def answer_options(func: Any) -> Any:
    """``-k/--top-k``, ``--examples``, ``--min-similarity`` and ``--max-tokens``, shared by
    the commands that answer questions."""
    func = min_similarity_option(func)
    func = examples_option(func)
    func = click.option(
        "--max-tokens",
        default=DEFAULTS.student_max_tokens,
        show_default=True,
        type=click.IntRange(1),
        help="New tokens per answer.",
    )(func)
    return top_k_option(func)


top_k_option = click.option(
    "-k",
    "--top-k",
    "k",
    default=DEFAULTS.k,
    show_default=True,
    type=click.IntRange(0),
    help="Experiences retrieved into each prompt.",
)


examples_option = click.option(
    "--examples",
    default=DEFAULTS.examples,
    show_default=True,
    type=click.IntRange(0),
    help="Worked examples (the teacher's right solutions of the most similar training "
    "problems) put into each prompt; 0: lessons only.",
)


def fail(message: str) -> None:
    raise click.ClickException(message)


skip_bad_rows_option = click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Skip rows of DATASET that fail validation (each is reported) instead of stopping "
    "before anything runs.",
)


def load_problems(dataset: str, limit: int | None, skip_bad_rows: bool) -> list[Any]:
    """The dataset's problems; bad rows stop the command, or are skipped and reported."""
    from ted_graph.data.loading import DatasetError, load_dataset

    skipped: list[DatasetError] = []
    try:
        problems = load_dataset(
            dataset, limit=limit, on_bad_row=skipped.append if skip_bad_rows else None
        )
    except DatasetError as exc:
        hint = "" if skip_bad_rows else "\n(--skip-bad-rows skips bad rows and reports them)"
        fail(f"{exc}{hint}")
    for exc in skipped:
        click.echo(f"skipped: {exc}", err=True)
    if skipped:
        click.echo(f"skipped {len(skipped)} bad row(s); {len(problems)} loaded", err=True)
    if not problems:
        fail(f"{dataset}: no valid problems")
    return problems
