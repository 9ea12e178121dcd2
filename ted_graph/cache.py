"""Where ted-graph keeps what it builds once: re-quantized weights, rendered images, models."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """``$TED_GRAPH_CACHE``, else ``$XDG_CACHE_HOME/ted-graph``, else ``~/.cache/ted-graph``."""
    if os.environ.get("TED_GRAPH_CACHE"):
        return Path(os.environ["TED_GRAPH_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ted-graph"
