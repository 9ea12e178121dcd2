"""Every example in examples/ runs as written (small settings; the remote one against a
llama.cpp server on localhost)."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ted_graph.models import resolve_gguf

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(script, *args, timeout=600):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_quickstart_distils_and_compares(tmp_path):
    out = run("quickstart.py", "--train", "1", "--test", "3", "-n", "2", "--batch-size", "1",
              "--out", str(tmp_path / "run"))  # fmt: skip
    assert "[distill]" in out and "student + experiences:" in out and "cost of distilling" in out
    assert (tmp_path / "run" / "result" / "result.json").exists()


def test_serving_answers_and_takes_feedback():
    out = run("serving.py", "--questions", "2")
    assert out.count("[answer]") == 2 and out.count("[feedback]") == 2
    assert "exp-4b2af87b4aea" in out  # a counting experience was retrieved and recorded


def test_dropin_agent_both_ways():
    out = run("dropin_agent.py")
    assert "[middleware] experiences used: ['When counting objects" in out
    assert "[nodes] message kinds: ['system', 'human', 'ai']" in out
    assert "retrieved 2" in out  # used once by each of the two agents


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_remote_endpoint_against_a_local_llama_cpp_server(tmp_path):
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", resolve_gguf("smollm2-135m"),
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        out = run("remote_endpoint.py", "--student", f"http://127.0.0.1:{port}/v1",
                  "--train", "2", "--test", "3", "--max-tokens", "32")  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
    assert "[usage] smollm2:" in out and "[eval] student alone" in out
