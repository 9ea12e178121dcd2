"""LangGraph Server: `langgraph dev` serves both graphs of langgraph.json over HTTP."""

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, serving

from ted_graph import ExperienceLibrary

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
LESSON = "When counting objects of several kinds, add the quantities of every kind together."
QUESTION = "I have 2 apples and 3 pears. How many fruits do I have?"


def test_make_graph_from_environment(tmp_path, monkeypatch):
    from graphs.distillation import make_graph

    monkeypatch.setenv("TED_LIBRARY", str(tmp_path / "lib"))
    monkeypatch.setenv("TED_STUDENT", "smollm2-135m")
    monkeypatch.setenv("TED_TEACHER", "qwen2.5-coder-0.5b")
    graph = asyncio.run(make_graph())
    assert {"next_batch", "solve_problem", "write_experiences", "compress"} <= set(
        graph.get_graph().nodes
    )
    assert (tmp_path / "lib").is_dir()  # the persistent library was opened there


@pytest.fixture
def server(tmp_path):
    exe = shutil.which("langgraph")
    if exe is None:
        pytest.fail("the `langgraph` command is missing: pip install 'langgraph-cli[inmem]'")
    library = tmp_path / "lib"
    seeded = ExperienceLibrary(library).add(LESSON)
    port = free_port()
    env = {
        **os.environ,
        "TED_LIBRARY": str(library),
        "TED_STUDENT": "smollm2-135m",
        "TED_TEACHER": "smollm2-135m",
    }
    command = [
        exe,
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with (tmp_path / "server.log").open("w") as log:
        with serving(
            command, "langgraph dev", port, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        ):
            yield f"http://127.0.0.1:{port}", seeded.id


def test_langgraph_dev_serves_both_graphs(server):
    from langgraph_sdk import get_sync_client

    url, seeded = server
    client = get_sync_client(url=url)
    assert {a["graph_id"] for a in client.assistants.search()} >= {"distillation", "serving"}

    # serving: one run answers on a thread, a later run on that thread grades the answer
    thread = client.threads.create()
    answered = client.runs.wait(thread["thread_id"], "serving", input={"question": QUESTION})
    assert answered["response"] and answered["answered"] == QUESTION
    assert [e["id"] for e in answered["experiences"]] == [seeded]
    graded = client.runs.wait(thread["thread_id"], "serving", input={"feedback": {"score": 1}})
    assert graded["feedback_report"]["correct"] is True
    assert graded["feedback_report"]["recorded"] == [seeded]
    assert graded["feedback"] is None and graded["response"] == answered["response"]

    # distillation: a one-problem run with settings passed as the run's context
    problem = {"id": "p1", "question": QUESTION, "answer": "5"}
    out = client.runs.wait(
        None,
        "distillation",
        input={"trainset": [problem]},
        context={"epochs": 1, "n": 1, "batch_size": 1, "student_max_tokens": 24,
                 "teacher_max_tokens": 32},
    )  # fmt: skip
    assert [h["step"] for h in out["history"]] == [0]
    assert out["history"][0]["problems"] == 1
