"""Import paths from before the package layout keep working, with a DeprecationWarning.

``ted_graph.curation`` and the other modules that moved into packages are served by this
module's finder as aliases of their new modules (the same module object, so patching and
pickled references reach the real code). Installed once by ``ted_graph/__init__.py``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install"]

#: old module path -> new module path
MOVED: dict[str, str] = {
    "ted_graph.agent": "ted_graph.serving.nodes",
    "ted_graph.curation": "ted_graph.distillation.curation",
    "ted_graph.datasets": "ted_graph.data",
    "ted_graph.datasets.easy_vqa": "ted_graph.data.easy_vqa",
    "ted_graph.datasets.shapes": "ted_graph.data.shapes",
    "ted_graph.distill": "ted_graph.distillation.run",
    "ted_graph.embeddings": "ted_graph.library.embeddings",
    "ted_graph.environment": "ted_graph.serving.environment",
    "ted_graph.evaluate": "ted_graph.distillation.evaluation",
    "ted_graph.examples": "ted_graph.library.examples",
    "ted_graph.experience": "ted_graph.library.experience",
    "ted_graph.feedback": "ted_graph.serving.feedback",
    "ted_graph.grammar": "ted_graph.models.grammar",
    "ted_graph.graph": "ted_graph.distillation.graph",
    "ted_graph.images": "ted_graph.data.images",
    "ted_graph.induction": "ted_graph.distillation.induction",
    "ted_graph.journal": "ted_graph.library.journal",
    "ted_graph.middleware": "ted_graph.serving.middleware",
    "ted_graph.nodes": "ted_graph.distillation.nodes",
    "ted_graph.prompting": "ted_graph.library.prompting",
    "ted_graph.recovery": "ted_graph.library.recovery",
    "ted_graph.retrieval": "ted_graph.library.retrieval",
    "ted_graph.safety": "ted_graph.library.safety",
    "ted_graph.selection": "ted_graph.distillation.selection",
    "ted_graph.store": "ted_graph.library.store",
    "ted_graph.structured": "ted_graph.models.structured",
    "ted_graph.usage_log": "ted_graph.library.usage_log",
    "ted_graph.verification": "ted_graph.distillation.verification",
}


_SPECS: dict[str, importlib.machinery.ModuleSpec | None] = {}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        _SPECS.setdefault(new, module.__spec__)  # the import system overwrites it: see below
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = _SPECS[module.__name__]  # the module's own spec, not the alias's


_FINDER = _Alias()


def install() -> None:
    """Serve the old paths (idempotent)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)  # first, or the path finder would load
        # ted_graph.datasets.shapes a second time from data/ (datasets is data)
