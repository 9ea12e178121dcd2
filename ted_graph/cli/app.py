"""The ``ted`` command group; each command lives in its own module of this package."""

from __future__ import annotations

import logging

import click

__all__ = ["cli"]


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
