"""Online learning from feedback on a served answer."""

import json

import pytest

from ted_graph.serving.feedback import learn_from_feedback, validate_feedback

LESSON = "When counting objects of several kinds, add the quantities of every kind."
NEW = "When a question lists several kinds of objects, add the counts of all kinds."
QUESTION = "I have 2 apples and 3 pears. How many fruits do I have?"


def stats(library, id_):
    e = library.get(id_)
    return e.retrieved, e.helpful, e.harmful


@pytest.mark.parametrize(
    "bad, message",
    [
        ("5", "must be a dict"),
        ({}, "needs a 'score'"),
        ({"score": 2}, "in \\[0, 1\\]"),
        ({"answer": ["5"]}, "'answer' must be a string"),
        ({"grade": 1}, "unknown field"),
    ],
)
def test_bad_feedback_is_refused_by_name(bad, message):
    with pytest.raises(ValueError, match=message):
        validate_feedback(bad)


def test_an_answer_grades_the_response(library):
    exp = library.add(LESSON)
    right = learn_from_feedback(
        library, question=QUESTION, response="Answer: 5", experiences=[exp.id],
        feedback={"answer": "5"},
    )  # fmt: skip
    wrong = learn_from_feedback(
        library, question=QUESTION, response="Answer: 6", experiences=[exp.id],
        feedback={"answer": "5"},
    )  # fmt: skip
    assert (right.correct, wrong.correct) == (True, False)
    assert stats(library, exp.id) == (2, 1, 1)  # no teacher: a wrong answer blames all used


def test_a_score_or_a_correction_alone(library):
    exp = library.add(LESSON)
    assert learn_from_feedback(
        library, question=QUESTION, response="x", experiences=[exp.id], feedback={"score": 0.9}
    ).correct
    assert not learn_from_feedback(
        library, question=QUESTION, response="x", experiences=[exp.id],
        feedback={"correction": "2 + 3 = 5"},
    ).correct  # fmt: skip
    assert stats(library, exp.id) == (2, 1, 1)


def test_a_teacher_critiques_a_wrong_answer_blames_and_writes(make_model, library):
    exp = library.add(LESSON)
    other = library.add("When comparing dates, convert both to days first.")

    def teacher_rule(prompt):
        if "reviewing a student's attempts" in prompt:
            assert "2 + 3 = 5" in prompt  # the correction stands in for its own solution
            return "It added wrongly.\nHelpful advice: none\nMisleading advice: E2"
        if "lessons that would help on OTHER problems" in prompt:
            return json.dumps({"operations": [{"op": "ADD", "text": NEW}]})
        return "?"

    report = learn_from_feedback(
        library,
        question=QUESTION,
        response="Answer: 6",
        experiences=[exp.id, other.id],
        feedback={"answer": "5", "correction": "2 + 3 = 5"},
        teacher=make_model(teacher_rule),
    )
    assert report.correct is False and report.misleading == [other.id]
    assert report.writes["added"] == 1
    assert NEW in [e.text for e in library.all()]
    assert stats(library, exp.id) == (1, 0, 0) and stats(library, other.id) == (1, 0, 1)


def test_a_wrong_score_blames_every_experience_with_or_without_a_teacher(make_model, library):
    """A score alone cannot be critiqued, so a teacher changes nothing: all used are blamed."""
    exp = library.add(LESSON)
    teacher = make_model(lambda prompt: pytest.fail("the teacher was asked: " + prompt[:80]))
    for model in (None, teacher):
        report = learn_from_feedback(
            library, question=QUESTION, response="Answer: 6", experiences=[exp.id],
            feedback={"score": 0}, teacher=model,
        )  # fmt: skip
        assert report.correct is False and report.critique is None
    assert stats(library, exp.id) == (2, 0, 2)


def test_a_reasoning_gym_problem_is_graded_by_its_task_scorer(library):
    pytest.importorskip("reasoning_gym")
    from ted_graph import load_dataset

    (problem,) = load_dataset("reasoning-gym:word_sorting?size=1&seed=5")
    words = problem["metadata"]["reasoning_gym"]["entry"]["metadata"]["sorted_words"]
    # no spaces after the commas: a string match with the answer fails, the scorer accepts it
    compact = ",".join(words)
    assert compact != problem["answer"]
    report = learn_from_feedback(
        library, question=problem, response=f"Answer: {compact}", experiences=[],
        feedback={"answer": problem["answer"]},
    )  # fmt: skip
    assert report.correct is True
