"""An installed wheel finds its prompt templates and bundled data."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_prompts_and_datasets(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("ted_graph-*.whl")
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    probe = (
        "import ted_graph.prompts as p, ted_graph.data.loading as d;"
        "dirs = p.prompt_dirs(); print(dirs[0]);"
        "print(len(p.template_names()), p.render('teacher_solve', problem='X')[:1]);"
        "print(len(d.load_dataset('bigbench:object_counting')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    first_dir, counts, tasks = run.stdout.strip().splitlines()
    assert first_dir == str(target / "ted_graph" / "prompts")
    assert int(counts.split()[0]) >= 9
    assert tasks == "1000"
