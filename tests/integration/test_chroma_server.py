"""The library on a real Chroma server (`chroma run`) on localhost."""

import shutil
import socket
import subprocess
import time

import pytest

from ted_graph import ExperienceLibrary

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command (installed with chromadb) is missing")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        else:
            pytest.fail("chroma run did not start within 60 s")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_library_on_a_chroma_server(chroma_server):
    lib = ExperienceLibrary.connect("127.0.0.1", chroma_server, collection="ted_server_test")
    exp = lib.add("When counting listed objects, count every named item once.", source_ids=["p1"])
    lib.add("When ordering objects from clues, place them on a line one clue at a time.")
    lib.record_usage({exp.id: (5, 4, 0)}, step=2)
    # a second client (another process would do the same) sees the same records
    other = ExperienceLibrary.connect("127.0.0.1", chroma_server, collection="ted_server_test")
    hits = other.search("How many fruits do I have?", k=1)
    assert hits[0][0].id == exp.id and hits[0][0].helpful == 4
    assert len(other) == 2
