"""Every third-party import of ted_graph is a declared dependency (checked by deptry).

The base install's side (every module imports without the extras) is checked by
``.ci/run``, which imports every module in a fresh venv with the README's install only.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_of_the_package_is_declared():
    run = subprocess.run(
        [sys.executable, "-m", "deptry", "ted_graph"],
        cwd=ROOT, capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No dependency issues found" in run.stdout + run.stderr
