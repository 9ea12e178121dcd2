"""The serving graph, batch serving and `ted serve`."""

import json

import pytest
from click.testing import CliRunner
from langgraph.checkpoint.memory import InMemorySaver

from ted_graph.cli import cli
from ted_graph.library.library import ExperienceLibrary
from ted_graph.serving.graph import create_serving_graph, serve_batch

LESSON = "When counting objects of several kinds, add the quantities of every kind."
QUESTION = "I have 2 apples and 3 pears. How many fruits do I have?"


def counting_student(prompt):
    return "2 + 3 = 5.\nAnswer: 5" if "add the quantities" in prompt else "Answer: 3"


def test_a_thread_answers_then_takes_feedback(make_model, library):
    exp = library.add(LESSON)
    student = make_model(counting_student)
    app = create_serving_graph(student, library, min_similarity=0.1).compile(
        checkpointer=InMemorySaver()
    )
    cfg = {"configurable": {"thread_id": "t"}}
    out = app.invoke({"question": QUESTION}, cfg)
    assert out["answer"] == "5" and [e["id"] for e in out["experiences"]] == [exp.id]
    assert LESSON in student.calls[0]
    out = app.invoke({"feedback": {"answer": "5"}}, cfg)
    assert out["feedback_report"]["correct"] is True and out["feedback"] is None
    assert library.get(exp.id).helpful == 1
    # asking the answered question again returns the stored answer without generating
    app.invoke({"question": QUESTION}, cfg)
    assert len(student.calls) == 1
    # a new question on the thread is answered afresh
    app.invoke({"question": "Name a fruit."}, cfg)
    assert len(student.calls) == 2


def test_bad_requests_fail_before_any_generation(make_model, library):
    student = make_model(counting_student)
    app = create_serving_graph(student, library).compile()
    with pytest.raises(ValueError, match="non-empty 'question'"):
        app.invoke({"question": "  "})
    with pytest.raises(ValueError, match="unknown field"):
        app.invoke({"question": QUESTION, "feedback": {"grade": 1}})
    with pytest.raises(ValueError, match="answered question"):
        app.invoke({"feedback": {"score": 1}})
    assert student.calls == []


def test_serve_batch_keeps_order_and_learns(make_model, library):
    exp = library.add(LESSON)
    app = create_serving_graph(make_model(counting_student), library, min_similarity=0.1)
    problems = [
        {"id": f"q{i}", "question": f"I have 2 apples and {i} pears. How many fruits?",
         "answer": "5"}
        for i in range(6)
    ]  # fmt: skip
    rows = list(serve_batch(app.compile(), problems, learn=True, progress=False))
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(6)]
    assert all(r["correct"] for r in rows) and rows[0]["experiences"] == [exp.id]
    assert library.get(exp.id).helpful == 6


def test_ted_serve_answers_a_file(make_model, tmp_path, monkeypatch):
    lib = ExperienceLibrary(tmp_path / "lib")
    lib.add(LESSON)
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": QUESTION, "answer": "5"}) + "\n"
        + json.dumps({"question": "How many fruits are 1 apple and 1 pear?"}) + "\n"
    )  # fmt: skip
    monkeypatch.setattr(
        "ted_graph.cli.options.load_model", lambda spec, b: make_model(counting_student)
    )
    out = tmp_path / "answers.jsonl"
    args = ["serve", str(questions), "-l", str(tmp_path / "lib"), "-o", str(out), "--learn"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows][0] == "a" and rows[0]["correct"] is True
    assert "correct" not in rows[1]  # no answer given, nothing to grade
    assert "answered 2 question(s); 1/1 correct" in result.output


def test_ted_serve_reads_stdin_and_names_bad_rows(make_model, tmp_path, monkeypatch):
    ExperienceLibrary(tmp_path / "lib").add(LESSON)
    monkeypatch.setattr(
        "ted_graph.cli.options.load_model", lambda spec, b: make_model(counting_student)
    )
    runner = CliRunner()
    ok = runner.invoke(cli, ["serve", "-", "-l", str(tmp_path / "lib")], input=QUESTION + "\n")
    assert ok.exit_code == 0 and json.loads(ok.stdout.splitlines()[0])["answer"] == "5"
    bad = runner.invoke(cli, ["serve", "-", "-l", str(tmp_path / "lib")], input='{"question": 3}\n')
    assert bad.exit_code != 0 and "<stdin>:1: field 'question'" in bad.output
    missing = runner.invoke(cli, ["serve", "-", "-l", str(tmp_path / "nowhere")], input="q\n")
    assert missing.exit_code != 0 and "no library" in missing.output
