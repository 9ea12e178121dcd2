import pytest

from ted_graph.data.loading import DatasetError
from ted_graph.distillation.evaluation import EvalResult, evaluate
from ted_graph.distillation.run import DistillResult, distill
from ted_graph.library.library import ExperienceLibrary


def student_rule(prompt):
    return "Answer: 3" if "count each named item once" in prompt else "Answer: 99"


def test_distill_then_save_load_and_serve(make_model, teacher, problems, tmp_path):
    student = make_model(student_rule)
    result = distill(
        student, teacher, problems, epochs=1, n=2, batch_size=2, progress=False,
        min_similarity=0.0, verify=False,
    )  # fmt: skip
    assert len(result.history) == 2 and len(result.experiences) == 1
    assert "1 active experiences" in result.summary()
    result.save(tmp_path / "run")
    again = DistillResult.load(tmp_path / "run")
    assert [e.text for e in again.experiences] == [e.text for e in result.experiences]
    assert again.config == result.config and again.history == result.history
    msgs = again.student_messages("How many animals do I have: a cat and a dog?")
    assert result.experiences[0].text in msgs[0].content


def test_distill_into_a_directory_library(make_model, teacher, problems, tmp_path):
    distill(
        make_model(student_rule),
        teacher,
        problems[:2],
        library=tmp_path / "lib",
        epochs=1,
        n=1,
        progress=False,
        verify=False,
    )
    assert len(ExperienceLibrary(tmp_path / "lib")) == 1


def test_bad_training_rows_fail_before_anything_is_written(make_model, teacher, problems, library):
    library.add("When x, y.")
    bad = [*problems, {"id": "x", "question": "", "answer": "1"}]
    with pytest.raises(DatasetError, match=r"trainset\[4\]: field 'question'"):
        distill(make_model(student_rule), teacher, bad, library=library, progress=False)
    assert [e.text for e in library.all()] == ["When x, y."]
    with pytest.raises(TypeError, match="unknown DistillConfig"):
        distill(make_model(student_rule), teacher, problems, progress=False, bogus=1)


def test_evaluate_with_and_without_library(make_model, problems, library):
    student = make_model(student_rule)
    assert evaluate(student, problems, progress=False).accuracy == 0.0
    library.add("When counting, count each named item once.")
    with_lib = evaluate(student, problems, library=library, min_similarity=0.0, progress=False)
    assert with_lib.correct == 1 and with_lib.total == 4  # only p1's answer is 3
    assert with_lib.predictions[0]["experience_ids"]


def test_evaluate_reports_interval_tokens_and_all_experiences(make_model, problems, library):
    student = make_model(student_rule)
    alone = evaluate(student, problems, progress=False)
    assert alone.experiences == "none" and alone.interval[0] == 0.0
    assert alone.per_item()["completion_tokens"] > 0 and alone.tokens_estimated
    library.add("When counting, count each named item once.")
    library.add("When ordering birds from clues, place the fixed positions first.")
    # a similarity cut-off above any score retrieves nothing; "all" ignores it
    none = evaluate(student, problems, library=library, min_similarity=0.99, progress=False)
    assert not any(p["experience_ids"] for p in none.predictions)
    every = evaluate(
        student, problems, library=library, min_similarity=0.99, experiences="all", progress=False
    )
    assert every.experiences == "all"
    assert all(len(p["experience_ids"]) == 2 for p in every.predictions)
    assert every.correct == 1 and every.prompt_tokens > alone.prompt_tokens  # p1 needs it
    diff, low, high = every.compare(alone)
    assert diff == 0.25 and low == 0.0 < high
    with pytest.raises(ValueError, match="experiences must be"):
        evaluate(student, problems, experiences="some", progress=False)  # type: ignore[arg-type]


def test_eval_result_save_and_load(make_model, problems, tmp_path):
    result = evaluate(make_model(student_rule), problems, progress=False)
    again = EvalResult.load(result.save(tmp_path / "r.json"))
    assert again.summary() == result.summary() and again.predictions == result.predictions
    assert "95% CI" in str(again)


def test_distill_reports_usage_and_calls_on_step(make_model, teacher, problems):
    seen = []
    result = distill(
        make_model(student_rule),
        teacher,
        problems,
        epochs=1,
        n=2,
        batch_size=2,
        progress=False,
        min_similarity=0.0,
        on_step=lambda record, lib: seen.append((record["step"], len(lib))),
    )
    assert seen == [(h["step"], h["library_size"]) for h in result.history]
    assert result.usage and all(u["completion_tokens"] > 0 for u in result.usage.values())


def test_a_fallback_critique_is_logged_and_counted_apart(make_model, problems, caplog):
    import logging

    from fakes import teacher_rule

    def label_lines_only(prompt):
        if "reviewing a student's attempts" in prompt:
            return "Helpful advice: none\nMisleading advice: none"
        return teacher_rule(prompt)

    with caplog.at_level(logging.INFO, logger="ted_graph.distillation.nodes"):
        result = distill(
            make_model(lambda p: "Answer: 99"), make_model(label_lines_only), problems[:2],
            epochs=1, n=1, batch_size=2, progress=False,
        )  # fmt: skip
    (step,) = result.history
    assert step["critiqued"] == 0 and step["fallback_critiques"] == 2
    assert caplog.text.count("the teacher's comparison had no critique") == 2
    assert "(+2 fallback: it wrote none)" in result.summary()


def test_validation_holds_problems_out_and_keeps_the_best_library(
    make_model, teacher, problems, tmp_path
):
    result = distill(
        make_model(student_rule), teacher, problems, epochs=1, n=1, batch_size=1,
        progress=False, min_similarity=0.0, validation=1,
    )  # fmt: skip
    report = result.validation
    assert report is not None and report.problems == 1
    assert sum(h["problems"] for h in result.history) == 3  # one problem held out
    assert [s for s, _ in report.scores] == [-1, 0, 1, 2]
    # the library ends as the version that scored best (empty if none beat the start)
    assert (len(result.experiences) > 0) == (report.kept_step >= 0)
    assert "validation (1 held-out problems)" in result.summary()
    again = DistillResult.load(result.save(tmp_path / "run"))
    assert again.validation == report


def test_a_valset_is_scored_and_nothing_is_held_out_of_the_trainset(make_model, teacher, problems):
    train, valset = problems[:3], problems[3:]
    result = distill(
        make_model(student_rule), teacher, train, epochs=1, n=1, batch_size=1,
        progress=False, min_similarity=0.0, valset=valset,
    )  # fmt: skip
    assert result.validation is not None and result.validation.problems == 1
    assert sum(h["problems"] for h in result.history) == 3  # all three trained on


def test_a_valset_must_be_apart_from_the_trainset(make_model, teacher, problems):
    student = make_model(student_rule)
    with pytest.raises(ValueError, match="shares 1 problem"):
        distill(student, teacher, problems, progress=False, valset=problems[:1])
    with pytest.raises(ValueError, match="not both"):
        distill(student, teacher, problems[:3], progress=False, valset=problems[3:], validation=1)
    assert not teacher.calls and not student.calls  # refused before any work


def test_validation_must_leave_training_problems(make_model, teacher, problems):
    with pytest.raises(ValueError, match="leaves no training problems"):
        distill(make_model(student_rule), teacher, problems, progress=False, validation=4)


def test_right_teacher_solutions_become_worked_examples(make_model, teacher, problems, tmp_path):
    student = make_model(student_rule)
    result = distill(
        student, teacher, problems, epochs=1, n=1, batch_size=4, progress=False,
        min_similarity=0.0, verify=False, examples=1, validation=0, rationalize=False,
    )  # fmt: skip
    # the fake teacher answers 3 to everything: right for p1 only (3 animals)
    assert [e.source_id for e in result.library.examples.all()] == ["p1"]
    assert result.history[0]["examples"] == 1
    result.save(tmp_path / "run")
    again = DistillResult.load(tmp_path / "run")
    assert [e.solution for e in again.library.examples.all()] == ["Count them: 3 items.\nAnswer: 3"]
    prompt = again.student_messages(problems[1])[0].content
    assert "solved correctly" in prompt and "Count them: 3 items." in prompt
    assert "solved correctly" not in again.student_messages(problems[0])[0].content  # its own
    shown = evaluate(student, problems, library=again.library, examples=1, progress=False)
    assert [p["example_ids"] != [] for p in shown.predictions] == [False, True, True, True]


def test_a_wrong_teacher_solution_is_rationalized_or_dropped(make_model, teacher, problems):
    from fakes import RuleChatModel

    student = make_model(student_rule)
    # shown the answer, the fake teacher reaches it: every solution kept is right
    result = distill(
        student, teacher, problems, epochs=1, n=1, batch_size=4, progress=False,
        verify=False, validation=0, group_critique=0,
    )  # fmt: skip
    shown = [c for c in teacher.calls if "The correct answer is:" in c]
    assert len(shown) == 3  # p2-p4: its own answer 3 is wrong; right for p1 (3 animals)
    for pid, solution in result.teacher_solutions.items():
        answer = next(p["answer"] for p in problems if p["id"] == pid)
        assert solution.endswith(f"Answer: {answer}")
    # a teacher that misses the answer even when shown it: no solution is kept or compared
    stubborn = RuleChatModel(rule=lambda prompt: "Answer: 3", calls=[])
    result = distill(
        student, stubborn, problems, epochs=1, n=1, batch_size=4, progress=False,
        verify=False, validation=0, group_critique=0,
    )  # fmt: skip
    assert result.teacher_solutions == {"p1": "Answer: 3"}  # right for p1 only
    compared = [c for c in stubborn.calls if "# Your own solution" in c and "and 1 fish" not in c]
    assert len(compared) == 3 and all("# Your own solution\n(none)" in c for c in compared)
