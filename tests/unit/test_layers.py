"""The package layout holds: imports flow one way, and no package has an import circle.

The contracts live in pyproject.toml (``[tool.importlinter]``); this runs them.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("contract", ["layers", "acyclic"])
def test_import_contract_is_kept(contract):
    # in a child process: import-linter configures logging, which would silence the
    # loggers that later tests read
    script = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', "
        f"limit_to_contracts=({contract!r},), no_cache=True, no_logo=True))"
    )
    out = subprocess.run(  # cwd first on sys.path: graphs/ is a root package of the contracts
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_old_import_paths_reach_the_moved_modules():
    """Every path from before the package layout imports the moved module itself (so a
    monkeypatch or a pickled reference through it reaches the real code), with a warning."""
    script = """
import sys, warnings
import ted_graph
from ted_graph._moved import MOVED
for old, new in MOVED.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        __import__(old)
    assert sys.modules[old] is sys.modules[new], old
    assert sys.modules[new].__spec__.name == new, old
    assert [w for w in caught if w.category is DeprecationWarning and new in str(w.message)], old
from ted_graph.curation import compress_library
from ted_graph.distillation import curation
assert compress_library is curation.compress_library
print(len(MOVED))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) >= 25
