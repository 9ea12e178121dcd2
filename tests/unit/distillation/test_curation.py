import json

import pytest
from fakes import LESSON

from ted_graph.config import DistillConfig
from ted_graph.distillation.curation import (
    compress_library,
    form_problem,
    generality_problem,
    write_from_critique,
)

CFG = DistillConfig()
PROBLEM = {
    "id": "p1",
    "question": "Yesterday was April 30, 2021. What is the date today?",
    "answer": "05/01/2021",
}


def asker(*replies):
    replies = list(replies)
    calls = []

    def ask(messages):
        calls.append(messages[-1].content)
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return ask, calls


@pytest.mark.parametrize(
    "text, reason",
    [
        ("When ..., ...", "placeholder"),
        ("When using <algorithm>, apply <method> to the whole problem.", "placeholder"),
        ("Count the items.", "placeholder"),
        ("What kind of situation does this problem describe here?", "form"),
        ("When the student needs to solve this kind, the student should try.", "student"),
        (
            "When analyzing paths, instead of adding a near-duplicate of one of them, improve "
            "it with UPDATE; DELETE one only if the critique shows it is wrong.",
            "instructions",
        ),
        ("When a rule helps on other problems, write it for the same kind of task.", None),
        ("When counting listed objects, count every named item once.", None),
        ("If two clues conflict, re-read both before placing anything.", None),
    ],
)
def test_lesson_form(text, reason):
    why = form_problem(text, 50)
    assert (why is None) if reason is None else (reason in why)


def test_generality_guard():
    assert generality_problem(LESSON, PROBLEM, 50) is None
    assert "states" in generality_problem(
        "When asked about this date, answer 05/01/2021 at once.", PROBLEM, 50
    )
    assert "answer" in generality_problem(
        "When unsure about the dates, the answer is (B).", PROBLEM, 50
    )
    assert "option" in generality_problem(
        "When unsure about the dates, pick option B without reading.", PROBLEM, 50
    )
    assert "copies" in generality_problem(
        "When yesterday was April 30, 2021. What is the date today? Think.", PROBLEM, 50
    )
    assert "too long" in generality_problem("word " * 101, PROBLEM, 50)


def test_a_listed_label_may_be_named_only_when_labels_are_allowed():
    shape = {"id": "s", "question": "What shape?", "answer": "line", "choices": ["line", "kite"]}
    rule = "When a path returns to its first point, the shape is never a line."
    assert generality_problem(rule, shape, 50) == "states this problem's answer"
    assert generality_problem(rule, shape, 50, labels=True) is None
    free = {"id": "f", "question": "What shape?", "answer": "line"}  # no choices: an answer
    assert generality_problem(rule, free, 50, labels=True) == "states this problem's answer"


COUNTING = {"id": "c1", "question": "I have a cat, 3 dogs and a fish. How many animals?",
            "answer": "5"}  # fmt: skip


@pytest.mark.parametrize(
    "text, reason",
    [
        ("When counting animals, this gave an incorrect total of 5 animals.", "numbers (5)"),
        ("When a list says 3 dogs, add 3 rather than 1 for that item.", "numbers (3)"),
        ("When a week is involved, remember that it has 7 days.", None),
        ("When a list names one item, add 1 for it and 0 for anything absent.", None),
        ("When counting animals, add each number written before a name.", None),
    ],
)
def test_lessons_naming_the_problems_numbers_are_rejected(text, reason):
    why = generality_problem(text, COUNTING, 50)
    assert (why is None) if reason is None else (reason in why)


def test_dates_in_the_question_count_as_its_numbers():
    why = generality_problem("When the year 2021 is given, count days from April.", PROBLEM, 50)
    assert "numbers (2021)" in why


SHAPE = {
    "id": "s1",
    "question": "The path shown in the image draws a",
    "answer": "circle",
    "accepted": ["ellipse"],
    "choices": ["circle", "ellipse", "kite", "sector"],
    "images": [
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
    ],
}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("When a path is drawn with straight strokes only, count its corners first.", None),
        ("When reading this figure, start from the stroke at the top left.", "one image"),
        ("When the outline shown above is closed, look at its width again.", "one image"),
        ("When a single arc closes on itself, it draws an ellipse.", "answer"),
        (
            "When counting segments, note that in this case the path has four of them.",
            "this one problem",
        ),
    ],
)
def test_lessons_from_image_problems_stay_general(text, reason):
    why = generality_problem(text, SHAPE, 50)
    assert (why is None) if reason is None else (reason in why)


def test_the_writer_of_an_image_problem_is_told_it_cannot_see_the_image(library):
    lesson = "When a path is drawn with straight strokes only, count its corners first."
    ask, calls = asker(json.dumps({"operations": [{"op": "ADD", "text": lesson}]}))
    report = write_from_critique(library, ask, "It missed the arc.", SHAPE, step=0, cfg=CFG)
    assert report.added == 1
    assert isinstance(calls[0], str)  # text only: the image is never sent to the writer
    assert "an image you cannot see" in calls[0]
    ask, calls = asker(json.dumps({"operations": []}))
    write_from_critique(library, ask, "Forgot the month end.", PROBLEM, step=0, cfg=CFG)
    assert "image" not in calls[0]


def test_write_applies_valid_operations_and_rejects_bad_ones(library):
    old = library.add("When adding days to a date, mind the month length.")
    ops = {
        "operations": [
            {
                "op": "ADD",
                "text": "When a date question says yesterday, move one day forward for today.",
            },
            {
                "op": "UPDATE",
                "id": "E1",
                "text": "When adding days to a date, check each month's length.",
            },
            {"op": "DELETE", "id": "E7"},
            {"op": "ADD", "text": "When unsure here, the answer is 05/01/2021."},
        ]
    }
    ask, calls = asker(json.dumps(ops))
    report = write_from_critique(
        library,
        ask,
        "Student forgot month ends.",
        PROBLEM,
        step=3,
        cfg=DistillConfig(max_operations=4),
    )
    assert (report.added, report.updated, report.rejected) == (1, 1, 2)
    assert library.get(old.id).text.endswith("check each month's length.")
    assert library.get(old.id).version == 2
    assert len(library) == 2
    assert "[E1] When adding days" in calls[0]


def test_write_skips_when_json_never_validates(library):
    ask, calls = asker("no json", "still none")
    report = write_from_critique(
        library, ask, "c", PROBLEM, step=0, cfg=DistillConfig(writer_retries=1)
    )
    assert report.unparsed == 1 and report.failed == 0 and len(library) == 0 and len(calls) == 2


def test_max_operations_caps_writes(library):
    ops = {
        "operations": [
            {"op": "ADD", "text": f"When case {i} happens, do thing {i}."} for i in range(5)
        ]
    }
    ask, _ = asker(json.dumps(ops))
    report = write_from_critique(
        library, ask, "c", PROBLEM, step=0, cfg=DistillConfig(max_operations=2)
    )
    assert report.added == 2 and len(library) == 2


def many(ask):
    return lambda batch: [ask(m) for m in batch]


def test_compression_removes_merges_rewrites_and_caps(library):
    bad = library.add("When in doubt, always pick the first option you see.")
    library.record_usage({bad.id: (20, 1, 15)}, step=1)
    library.add("When counting listed objects, count every named item once.")
    library.add("When counting listed objects, count each named item exactly once.")
    long_text = "When reading a long puzzle " + "and its many clauses " * 15 + ", slow down."
    long_exp = library.add(long_text)
    ask, calls = asker(
        json.dumps({"merge": True, "text": LESSON}),
        json.dumps({"text": "When reading long puzzles, go clause by clause."}),
    )
    report = compress_library(
        library, many(ask), step=2, cfg=DistillConfig(max_size=50, min_uses=10)
    )
    assert report.removed == 1 and library.get(bad.id).status == "removed"
    assert report.merged == 1 and any(e.text == LESSON for e in library.all())
    assert report.rewritten == 1 and library.get(long_exp.id).text.startswith("When reading long")
    assert len(library) == 2


def test_compression_never_merges_without_the_teachers_consent(library):
    library.add("When counting listed objects, count every named item once.")
    library.add("When counting listed objects, count each named item exactly once.")
    ask, _ = asker(json.dumps({"merge": False}))
    assert compress_library(library, many(ask), step=0, cfg=DistillConfig()).merged == 0
    assert len(library) == 2


def test_compression_caps_size_by_utility(library):
    exps = [library.add(f"When facing situation number {i}, apply remedy {i}.") for i in range(5)]
    library.record_usage({exps[0].id: (5, 0, 5), exps[1].id: (5, 5, 0)}, step=0)
    ask, _ = asker(json.dumps({"merge": False}))
    report = compress_library(
        library, many(ask), step=0, cfg=DistillConfig(max_size=3, min_uses=100)
    )
    assert report.dropped == 2 and len(library) == 3
    assert library.get(exps[0].id).status == "removed"
    assert library.get(exps[1].id).status == "active"


def test_identical_lessons_are_merged_without_asking_the_teacher(library):
    from ted_graph.distillation.curation import compress_library

    a = library.add("When counting listed objects, add up every quantity given.")
    b = library.add("When counting listed objects: add up every quantity given!")
    library.record_usage({b.id: (4, 4, 0)}, step=0)
    asked = []
    report = compress_library(
        library, lambda batch: asked.extend(batch) or ["{}"] * len(batch), step=1,
        cfg=DistillConfig(merge_threshold=0.85),
    )  # fmt: skip
    assert report.merged == 1 and asked == []
    (kept,) = library.all()
    assert kept.text == b.text and kept.retrieved == 4
    assert library.get(a.id).status == "merged"
