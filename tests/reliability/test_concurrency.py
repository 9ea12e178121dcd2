"""Several processes on one library through a real Chroma server (`chroma run`).

Serving processes record usage while another process distils (writes); no count may be
lost and no reader may see a broken record.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from servers import chroma_server

from ted_graph.library.library import ExperienceLibrary

LESSONS = [
    "When counting listed objects, count every named item once.",
    "When ordering objects from clues, place them one clue at a time.",
]


@pytest.fixture
def chroma(tmp_path):
    with chroma_server(tmp_path / "db") as port:
        yield port


def start(code: str, cwd: Path, *args: object) -> subprocess.Popen[str]:
    script = cwd / f"child{len(list(cwd.glob('child*.py')))}.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
             "HOME": str(cwd)},
    )  # fmt: skip


SERVER = """
import json, sys, time
from ted_graph.library.library import ExperienceLibrary
port, rounds = int(sys.argv[1]), int(sys.argv[2])
lib = ExperienceLibrary.connect("127.0.0.1", port, collection="shared")
ids = [e.id for e in lib.all()]
broken = []
for i in range(rounds):
    for exp, score in lib.search("How many fruits do I have?", k=5, min_similarity=-1):
        if not exp.text or exp.status != "active":
            broken.append(repr(exp))
    lib.record_usage({ids[i % 2]: (1, 1, 0)}, step=i)
print(json.dumps({"broken": broken}))
"""

WRITER = """
import json, sys
from ted_graph.library.library import ExperienceLibrary
port = int(sys.argv[1])
lib = ExperienceLibrary.connect("127.0.0.1", port, collection="shared")
for step in range(12):
    with lib.batch(step):
        text = f"When a question has {step + 3} parts, answer each part in order first."
        new = lib.add(text, step=step)
        if step % 3 == 2:
            lib.remove(new.id, step=step)
    lib.fold_usage()
print(json.dumps({"active": len(lib)}))
"""


def test_concurrent_servers_lose_no_count_while_a_writer_writes(chroma, tmp_path):
    library = ExperienceLibrary.connect("127.0.0.1", chroma, collection="shared")
    assert library.shared
    a, b = (library.add(text) for text in LESSONS)
    rounds = 30
    servers = [start(SERVER, tmp_path, chroma, rounds) for _ in range(3)]
    writer = start(WRITER, tmp_path, chroma)
    outputs = [p.communicate(timeout=600) for p in [*servers, writer]]
    for proc, (_, err) in zip([*servers, writer], outputs, strict=True):
        assert proc.returncode == 0, err
    broken = [b for out, _ in outputs[:3] for b in json.loads(out)["broken"]]
    assert broken == []
    library.fold_usage()
    counts = {e.id: (e.retrieved, e.helpful) for e in library.all()}
    assert counts[a.id] == counts[b.id] == (3 * rounds // 2, 3 * rounds // 2)  # none lost
    assert len(library) == 2 + 12 - 4
