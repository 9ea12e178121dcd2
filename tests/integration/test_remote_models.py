"""Student and teacher behind an OpenAI-compatible server (llama.cpp's) on localhost."""

import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from langchain_core.messages import HumanMessage

from ted_graph import distill, load_chat_model
from ted_graph.cli import cli
from ted_graph.models import generate, resolve_gguf

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "llama_cpp.server",
            "--model", resolve_gguf("smollm2-135m"), "--model_alias", "smollm2",
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "llama_cpp.server exited"
            time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not start within 120 s")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_specs_reach_the_server_with_per_call_settings(endpoint):
    named = load_chat_model(f"openai:smollm2@{endpoint}")
    bare = load_chat_model(endpoint)  # the server's first model
    assert bare.model_name == named.model_name == "smollm2"
    prompt = [HumanMessage("Write a long story about fruits.")]
    out = generate(named, [prompt, prompt], n=3, temperature=0.8, max_tokens=8, seed=1)
    assert [len(texts) for texts in out] == [3, 3]  # the server ignores `n`: topped up
    assert all(0 < len(t.split()) <= 12 for texts in out for t in texts)  # max_tokens held
    assert len(set(out[0])) > 1  # copies were sampled with different seeds


def test_distill_and_eval_with_remote_student_and_teacher(endpoint, tmp_path):
    problem = {
        "id": "p1",
        "question": "I have 2 apples and 3 pears. How many fruits?",
        "answer": "5",
    }
    result = distill(
        f"openai:smollm2@{endpoint}",
        f"openai:smollm2@{endpoint}",
        [problem],
        library=tmp_path / "lib",
        epochs=1,
        n=2,
        batch_size=1,
        student_max_tokens=32,
        teacher_max_tokens=48,
        progress=False,
    )
    assert [h["problems"] for h in result.history] == [1]
    assert result.usage and all(m["estimated"] for m in result.usage.values())
    out = CliRunner().invoke(
        cli,
        ["eval", "bigbench:object_counting", "--limit", "2", "--student", endpoint,
         "-l", str(tmp_path / "lib"), "--max-tokens", "24"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "accuracy:" in out.output and "(estimated)" in out.output
