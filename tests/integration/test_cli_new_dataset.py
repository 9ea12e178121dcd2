"""`ted distill` then `ted inspect` on a JSONL the project has never seen, real models."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def ted(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "ted_graph.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_distill_and_inspect_an_unseen_jsonl(tmp_path):
    rows = [
        {
            "id": "fruit-1",
            "question": "I have two apples and three pears. How many fruits do I have?",
            "answer": 5,
        },
        {
            "id": "coin-1",
            "question": "Which is worth more?",
            "choices": ["a dime", "a penny"],
            "answer": "a dime",
        },
    ]
    data = tmp_path / "mine.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    run = ted(
        "distill",
        str(data),
        "-l",
        "lib",
        "--epochs",
        "1",
        "-n",
        "2",
        "--batch-size",
        "2",
        "--student-max-tokens",
        "40",
        "--teacher-max-tokens",
        "128",
        "--save",
        "saved",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "1 steps in" in run.stdout and "active experiences" in run.stdout
    assert (tmp_path / "saved" / "result.json").exists()
    inspect = ted("inspect", "-l", "lib", "--all", cwd=tmp_path)
    assert inspect.returncode == 0, inspect.stderr[-2000:]
    assert "experience(s) in ExperienceLibrary(lib" in inspect.stdout
    evaluated = ted(
        "eval",
        str(data),
        "-l",
        "lib",
        "--max-tokens",
        "40",
        "--predictions",
        "preds.jsonl",
        "--output",
        "eval.json",
        cwd=tmp_path,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "accuracy:" in evaluated.stdout and "/2; 95% CI" in evaluated.stdout
    assert "per item:" in evaluated.stdout and "completion tokens" in evaluated.stdout
    summary = json.loads((tmp_path / "eval.json").read_text())
    assert summary["total"] == 2 and summary["per_item"]["prompt_tokens"] > 20
    assert summary["tokens_estimated"] is False and len(summary["predictions"]) == 2
    rows = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["fruit-1", "coin-1"]
