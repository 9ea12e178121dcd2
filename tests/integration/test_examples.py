"""Every example in examples/ runs as written (small settings; the remote one against a
llama.cpp server on localhost)."""

import subprocess
import sys
from pathlib import Path

import pytest

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
    # the fast pair: CI runs the default pair in .ci/run (the README's first command)
    out = run("quickstart.py", "--train", "1", "--test", "3", "-n", "2", "--batch-size", "1",
              "--student", "smollm2-135m", "--teacher", "qwen2.5-coder-0.5b",
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


def test_remote_endpoint_against_a_local_llama_cpp_server(llama_endpoint):
    out = run("remote_endpoint.py", "--student", llama_endpoint,
              "--train", "2", "--test", "3", "--max-tokens", "32")  # fmt: skip
    assert "[usage] smollm2:" in out and "[eval] student alone" in out
