import jinja2
import pytest

from ted_graph.library.prompting import problem_text, retrieve_experiences, student_messages
from ted_graph.prompts import render, template_names


def test_all_templates_present():
    assert set(template_names()) >= {
        "student_system",
        "problem",
        "teacher_solve",
        "compare",
        "write_experiences",
        "merge",
        "rewrite",
        "repair_json",
    }


def test_strict_undefined():
    with pytest.raises(jinja2.UndefinedError):
        render("teacher_solve")


def test_override_folder(tmp_path, monkeypatch):
    (tmp_path / "teacher_solve.jinja").write_text("custom {{ problem }}")
    monkeypatch.setenv("TED_GRAPH_PROMPTS", str(tmp_path))
    assert render("teacher_solve", problem="P") == "custom P"


def test_problem_text_letters_choices():
    text = problem_text({"id": "x", "question": "Which?", "answer": "b", "choices": ["a", "b"]})
    assert "(A) a" in text and "(B) b" in text


def test_student_messages_carry_experiences_as_delimited_advice():
    problem = {"id": "x", "question": "How many?", "answer": "2"}
    bare = student_messages(problem)
    assert "<advice>" not in bare[0].content
    msgs = student_messages(
        problem, [{"id": "e", "text": "When counting, list items.", "score": 0.9}]
    )
    assert "<advice>" in msgs[0].content and "When counting, list items." in msgs[0].content
    # the problem, then the answer line to end with, after the question's own wording
    assert msgs[1].content.startswith("How many?\n\nThink step by step")
    assert msgs[1].content.endswith(
        '"Answer: <your answer>", written in the form the problem asks for.'
    )


def test_retrieval_respects_k_cut_off_and_token_budget(library):
    for i in range(6):
        library.add(f"When counting objects of kind {i}, list every item with its quantity first.")
    problem = {"id": "x", "question": "How many objects do I have?", "answer": "2"}
    assert len(retrieve_experiences(library, problem, k=3, min_similarity=0, max_tokens=1000)) == 3
    assert len(retrieve_experiences(library, problem, k=6, min_similarity=0, max_tokens=40)) == 1
    assert retrieve_experiences(library, problem, k=6, min_similarity=0.999, max_tokens=1000) == []
    assert retrieve_experiences(None, problem, k=6, min_similarity=0, max_tokens=1000) == []
