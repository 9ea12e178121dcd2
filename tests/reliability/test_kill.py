"""SIGKILL in the middle of a write, then restart: the library is never corrupt.

A child process writes to a persistent library and kills itself (SIGKILL: no cleanup, no
``finally``) half-way through a batch. The parent reopens the library and compares it with
an export taken before the batch, and a killed distillation resumed from its checkpoint
with an uninterrupted run's export.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from ted_graph.library.library import ExperienceLibrary

TESTS = Path(__file__).resolve().parents[1]


def run_child(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = cwd / "child.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(TESTS), "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1",
             "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )  # fmt: skip


def records(path: Path) -> list[dict]:
    return sorted(json.loads(path.read_text())["experiences"], key=lambda e: e["id"])


def test_a_batch_killed_half_way_is_undone_on_recovery(tmp_path):
    child = run_child(
        """
        import os, signal
        from ted_graph.library.library import ExperienceLibrary

        lib = ExperienceLibrary("lib")
        a = lib.add("When counting listed objects, count every named item once.", step=0)
        b = lib.add("When ordering objects from clues, place them one clue at a time.", step=0)
        lib.record_usage({a.id: (4, 3, 1)}, step=0)
        lib.export_json("before.json")
        with lib.batch(step=1):
            lib.update(a.id, "When counting listed objects, count each once, then add.", step=1)
            lib.remove(b.id, step=1)
            lib.add("When dates are involved, count the days between them one by one.", step=1)
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        tmp_path,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    library = ExperienceLibrary(tmp_path / "lib")
    assert (library.collection.metadata or {}).get("ted_batch")  # left open by the dead writer
    assert library.recover() == 3
    library.export_json(tmp_path / "after.json")
    assert records(tmp_path / "after.json") == records(tmp_path / "before.json")
    assert library.recover() == 0
    hits = library.search("How many fruits are there?", k=5, min_similarity=-1)
    assert len(hits) == 2  # the vectors are back too: search works on the reopened library


DISTILL = """
import os, signal, sys
from fakes import RuleChatModel, teacher_for_steps
from ted_graph.distillation.run import distill
from ted_graph.library.library import ExperienceLibrary

kill_at = int(sys.argv[1]) if len(sys.argv) > 1 else 0
lib = ExperienceLibrary("lib")
real_update, calls = lib.update, []

def dying_update(*args, **kwargs):
    calls.append(1)
    out = real_update(*args, **kwargs)
    if len(calls) == kill_at:  # after this write, mid-batch: the batch's add follows
        os.kill(os.getpid(), signal.SIGKILL)
    return out

lib.update = dying_update
problems = [{"id": f"p{i}", "question": f"I have a cat, a dog and {i} fish. How many animals?",
             "answer": str(2 + i)} for i in range(1, 5)]
distill(RuleChatModel(rule=lambda p: "Answer: 99", calls=[]), teacher_for_steps(), problems,
        library=lib, epochs=1, n=1, batch_size=2, progress=False, min_similarity=0.0,
        compress_every=0, verify=False, group_critique=0, checkpointer="run.sqlite",
        thread_id="t")
lib.export_json("final.json")
"""


def test_a_distillation_killed_mid_write_resumes_to_the_uninterrupted_library(tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for folder in (clean, killed):
        folder.mkdir()

    def script(args):
        return f"import sys; sys.argv[1:] = {args!r}\n" + DISTILL

    done = run_child(script([]), clean)
    assert done.returncode == 0, done.stderr
    first = run_child(script(["1"]), killed)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert not (killed / "final.json").exists()
    resumed = run_child(script([]), killed)
    assert resumed.returncode == 0, resumed.stderr
    assert "undid a half-applied batch" in resumed.stderr or "half-written" in resumed.stderr
    assert records(killed / "final.json") == records(clean / "final.json")
