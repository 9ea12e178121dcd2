"""Every module of ted_graph imports with the README's install alone (base + llamacpp).

A module may need an optional extra only through the packages listed in GATED: a missing
import of any other module fails CI, so a dependency the base install lacks cannot land.
"""

import importlib
import pkgutil
import sys

import ted_graph

# the extras' top-level modules (pyproject.toml [project.optional-dependencies])
GATED = {"langchain": "agents", "langchain_openai": "remote", "easy_vqa": "vqa"}

names = [m.name for m in pkgutil.walk_packages(ted_graph.__path__, "ted_graph.")]
gated, failed = [], []
for name in names:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        (gated if top in GATED else failed).append(f"{name} needs {exc.name}")
print(f"base install: {len(names) - len(gated) - len(failed)} of {len(names)} modules import")
for line in gated:
    print(f"  behind an extra: {line}")
for line in failed:
    print(f"  MISSING DEPENDENCY: {line}")
sys.exit(1 if failed else 0)
