"""SIGKILL a real `ted distill --checkpoint` run mid-way, resume it, compare libraries."""

import os
import signal
import subprocess
import sys
import time

import pytest

from ted_graph import ExperienceLibrary

pytestmark = pytest.mark.integration

SEED = [
    "When counting objects, list every named item with its quantity before adding.",
    "When a question lists items of several kinds, check which kind the question asks about.",
    "If a quantity is written as a word, convert it to a number before adding.",
]


def command(library, checkpoint):
    # One sequence at a time (llama.cpp, one slot, one rollout): a resumed run then samples
    # exactly what the uninterrupted one did; sequences batched with different neighbours
    # can differ in the last bits of floating point, and so in what they sample.
    return [
        sys.executable, "-m", "ted_graph.cli", "distill", "bigbench:object_counting",
        "--limit", "2", "--epochs", "1", "--batch-size", "1", "--rollouts", "1",
        "--student", "smollm2-135m", "--teacher", "smollm2-135m",
        "--student-max-tokens", "32", "--teacher-max-tokens", "48",
        "--generation-batch-size", "1",
        "--library", str(library), "--checkpoint", str(checkpoint),
    ]  # fmt: skip


def seeded(path):
    lib = ExperienceLibrary(path)
    for text in SEED:
        lib.add(text)
    return path


def state(path):
    lib = ExperienceLibrary(path)
    return sorted(
        (e.text, e.status, e.retrieved, e.helpful, e.harmful, e.version, e.last_used_step)
        for e in lib.all(status=None)
    )


def test_sigkill_then_resume_ends_with_the_uninterrupted_library(tmp_path):
    env = {**os.environ, "TQDM_MININTERVAL": "0"}
    clean = seeded(tmp_path / "clean")
    subprocess.run(command(clean, tmp_path / "clean.sqlite"), check=True, env=env)

    lib = seeded(tmp_path / "killed")
    ckpt = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        command(lib, ckpt), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env
    )
    seen, deadline = b"", time.time() + 600
    while b"step=1/2" not in seen and time.time() < deadline:  # the first step is done
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"step=1/2" in seen, seen.decode(errors="replace")[-2000:]
    time.sleep(2)  # into the second step's work
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    done = subprocess.run(command(lib, ckpt), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert state(lib) == state(clean)
    used = [s for s in state(clean) if s[2] > 0]
    assert used, "the seeded experiences were never retrieved: the comparison would be empty"
