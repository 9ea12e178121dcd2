"""``ted inspect``, ``ted export``, ``ted import``: look at and move a library."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ted_graph.cli import options
from ted_graph.cli.app import cli
from ted_graph.library.experience import format_table


@cli.command()
@options.library_options
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
    store: options.LibraryOptions,
    show_all: bool,
    sort: str,
    as_json: bool,
) -> None:
    """List the experiences in the library with their usage statistics."""
    if store.missing():
        options.fail(f"no library at {store.path}")
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
@options.library_options
@click.option("--active-only", is_flag=True, help="Export only active experiences.")
def export_cmd(
    output: Path,
    store: options.LibraryOptions,
    active_only: bool,
) -> None:
    """Export the library to a JSON file OUTPUT (shareable, re-embedded on import)."""
    if store.missing():
        options.fail(f"no library at {store.path}")
    lib = store.open()
    count = lib.export_json(output, status="active" if active_only else None)
    click.echo(f"exported {count} experience(s) to {output}")


@cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@options.library_options
def import_cmd(
    source: Path,
    store: options.LibraryOptions,
) -> None:
    """Import experiences from an exported JSON file SOURCE into the library."""
    lib = store.open()
    try:
        count = lib.import_json(source)
    except ValueError as exc:
        options.fail(str(exc))
    click.echo(f"imported {count} experience(s); {len(lib)} active in {lib!r}")
