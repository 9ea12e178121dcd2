"""Prompt templates: Jinja2 files under ``prompts/`` rendered with ``StrictUndefined``.

In a source checkout the templates are read from the repository's top-level ``prompts/``;
an installed wheel carries them as ``ted_graph/prompts/``. Users can point
``TED_GRAPH_PROMPTS`` at a folder of their own files to override any template by name.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["render", "prompt_dirs", "template_names"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def prompt_dirs() -> list[Path]:
    """Folders searched for templates, first match wins."""
    dirs: list[Path] = []
    override = os.environ.get("TED_GRAPH_PROMPTS")
    if override:
        dirs.append(Path(override))
    installed = _PACKAGE_DIR / "prompts"  # wheel layout
    checkout = _PACKAGE_DIR.parent / "prompts"  # source checkout / editable install
    dirs.extend(d for d in (installed, checkout) if d.is_dir())
    if not any(d.is_dir() for d in dirs):
        raise FileNotFoundError(
            "ted-graph prompt templates not found: looked in "
            f"{installed} and {checkout}. Reinstall the package."
        )
    return dirs


@functools.lru_cache(maxsize=4)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )


def template_names() -> list[str]:
    """Names of the available templates (without the ``.jinja`` suffix)."""
    env = _environment(tuple(prompt_dirs()))
    return sorted(n.removesuffix(".jinja") for n in env.list_templates(extensions=["jinja"]))


def render(name: str, **variables: Any) -> str:
    """Render template ``name`` (e.g. ``"student_system"``) with ``variables``.

    Raises:
        jinja2.UndefinedError: a variable the template uses was not given.
    """
    env = _environment(tuple(prompt_dirs()))
    return env.get_template(f"{name}.jinja").render(**variables).strip()
