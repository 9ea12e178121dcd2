"""The ``ted`` command line: distil, inspect, export, import, evaluate, serve.

One module per command group (:mod:`~ted_graph.cli.distill`, :mod:`~ted_graph.cli.library`,
:mod:`~ted_graph.cli.evaluate`, :mod:`~ted_graph.cli.serve`) registers its commands on the
group in :mod:`~ted_graph.cli.app`; :mod:`~ted_graph.cli.options` holds what they share.

May import anything of ted-graph: nothing imports the CLI.
"""

from __future__ import annotations

from ted_graph.cli import distill, evaluate, library, serve  # noqa: F401 - register commands
from ted_graph.cli.app import cli

__all__ = ["cli", "main"]


def main() -> None:
    """The ``ted`` console script."""
    cli(prog_name="ted")
