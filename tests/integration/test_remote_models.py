"""Student and teacher behind an OpenAI-compatible server (llama.cpp's) on localhost."""

import pytest
from click.testing import CliRunner
from langchain_core.messages import HumanMessage

from ted_graph import distill, load_chat_model
from ted_graph.cli import cli
from ted_graph.models import generate

pytestmark = pytest.mark.integration


def test_specs_reach_the_server_with_per_call_settings(llama_endpoint):
    endpoint = llama_endpoint
    named = load_chat_model(f"openai:smollm2@{endpoint}")
    bare = load_chat_model(endpoint)  # the server's first model
    assert bare.model_name == named.model_name == "smollm2"
    prompt = [HumanMessage("Write a long story about fruits.")]
    out = generate(named, [prompt, prompt], n=3, temperature=0.8, max_tokens=8, seed=1)
    assert [len(texts) for texts in out] == [3, 3]  # the server ignores `n`: topped up
    assert all(0 < len(t.split()) <= 12 for texts in out for t in texts)  # max_tokens held
    assert len(set(out[0])) > 1  # copies were sampled with different seeds


def test_distill_and_eval_with_remote_student_and_teacher(llama_endpoint, tmp_path):
    endpoint = llama_endpoint
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
