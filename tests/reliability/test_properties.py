"""Property-based tests: the answer parser, library operations, export/import, bounds."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ted_graph.answers import extract_answer, grade, is_correct
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import estimate_tokens, retrieve_experiences

# every example embeds texts with the real embedder: few examples, and no long shrinking
SLOW = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
)
words = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=9)
options = st.lists(words, min_size=2, max_size=6, unique=True)
lessons = st.lists(words, min_size=6, max_size=12).map(
    lambda ws: "When " + " ".join(ws[:3]) + ", " + " ".join(ws[3:]) + "."
)


# --- the answer parser ----------------------------------------------------------------------
@given(st.text(max_size=2000), st.one_of(st.none(), options))
def test_the_parser_never_fails_and_only_returns_an_option(text, choices):
    answer = extract_answer(text, choices)
    assert answer is None or isinstance(answer, str)
    if choices and answer is not None:
        assert answer in choices


@given(options, st.data(), st.sampled_from(["Answer: {}", "The answer is {}", "\\boxed{{{}}}"]))
def test_a_stated_option_is_found_by_text_or_letter(choices, data, form):
    i = data.draw(st.integers(0, len(choices) - 1))
    for said in (choices[i], f"({string.ascii_uppercase[i]})"):
        text = "Some reasoning first.\n" + form.format(said)
        assert extract_answer(text, choices) == choices[i]


@given(st.integers(-(10**9), 10**9), st.text(alphabet=" .,\n", max_size=5))
def test_numbers_round_trip(n, tail):
    text = f"Counting gives {n + 1} first, then fixing it.\nAnswer: {n:,}{tail}"
    assert is_correct(extract_answer(text), str(n))


@given(options, st.data())
def test_grade_accepts_exactly_the_accepted_answers(choices, data):
    right = data.draw(st.lists(st.sampled_from(choices), min_size=1, unique=True))
    problem = {"id": "p", "question": "q", "answer": right[0], "accepted": right[1:],
               "choices": choices}  # fmt: skip
    for option in choices:
        assert grade(option, problem) == (option in right)


# --- library operations against a model of them ----------------------------------------------
ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "update", "remove", "merge", "usage"]),
        lessons,
        st.integers(0, 50),
        st.integers(0, 5),
    ),  # fmt: skip
    min_size=1,
    max_size=12,
)


def apply(library, model, op, text, pick, n):
    """Apply one operation to the library and to ``model`` (id -> [text, status, counts])."""
    active = sorted(i for i, v in model.items() if v[1] == "active")
    if op == "add" or not active:
        exp = library.add(text)
        old = model.get(exp.id)
        model[exp.id] = [exp.text, "active", old[2] if old else [0, 0, 0]]
        return
    target = active[pick % len(active)]
    if op == "update":
        model[target][0] = library.update(target, text).text
    elif op == "remove":
        library.remove(target)
        model[target][1] = "removed"
    elif op == "usage":
        library.record_usage({target: (n, min(n, 1), 0)}, step=1)
        counts = model[target][2]
        model[target][2] = [counts[0] + n, counts[1] + min(n, 1), counts[2]]
    elif op == "merge" and len(active) >= 2:
        other = active[(pick + 1) % len(active)]
        merged = library.merge([target, other], text)
        if merged.id not in (target, other):
            sums = [a + b for a, b in zip(model[target][2], model[other][2], strict=True)]
            prior = model.get(merged.id, [None, None, [0, 0, 0]])[2]
            model[merged.id] = [
                merged.text,
                "active",
                [a + b for a, b in zip(sums, prior, strict=True)],
            ]
            model[target][1] = model[other][1] = "merged"


def state(library):
    return {e.id: [e.text, e.status, [e.retrieved, e.helpful, e.harmful]]
            for e in library.all(status=None)}  # fmt: skip


@SLOW
@given(ops)
def test_operations_match_a_model_and_survive_export_and_import(tmp_path_factory, sequence):
    library, model = ExperienceLibrary.in_memory(), {}
    for op in sequence:
        apply(library, model, *op)
    seen = state(library)
    assert {i: v[1] for i, v in seen.items()} == {i: v[1] for i, v in model.items()}
    assert len(library) == sum(1 for v in model.values() if v[1] == "active")
    for id_, (text, status, counts) in model.items():
        if status == "active" and seen[id_][0] == text:
            assert seen[id_][2] == counts
    path = tmp_path_factory.mktemp("export") / "lib.json"
    assert library.export_json(path) == len(seen)
    copy = ExperienceLibrary.in_memory()
    copy.import_json(path)
    assert state(copy) == seen
    assert copy.snapshot() == library.snapshot()


def records(library):
    """Everything but the usage counters, which batches and rollbacks keep (they are history)."""
    return [
        {
            k: v
            for k, v in r.items()
            if k not in ("retrieved", "helpful", "harmful", "last_used_step")
        }
        for r in library.snapshot()
    ]


@SLOW
@given(ops, st.integers(0, 11))
def test_a_failing_batch_leaves_the_library_unchanged(sequence, fail_at):
    library, model = ExperienceLibrary.in_memory(), {}
    library.add("When counting listed objects, count every named item once.")
    library.add("When ordering objects from clues, place them one clue at a time.")
    before = records(library)
    with pytest.raises(RuntimeError), library.batch(step=3):
        for i, op in enumerate(sequence):
            if i == fail_at:
                break
            apply(library, model | state(library), *op)
        raise RuntimeError("the store went away")
    assert records(library) == before


@SLOW
@given(ops)
def test_rolling_back_a_step_restores_texts_and_statuses(sequence):
    library = ExperienceLibrary.in_memory()
    library.add("When counting listed objects, count every named item once.", step=0)
    library.add("When ordering objects from clues, place them one clue at a time.", step=0)
    before = {i: v[:2] for i, v in state(library).items()}
    model = state(library)
    for op, text, pick, _ in sequence:
        active = sorted(i for i, v in model.items() if v[1] == "active")
        if op == "add" or not active:
            library.add(text, step=4)
        elif op == "update":
            library.update(active[pick % len(active)], text, step=4)
        elif op == "remove":
            library.remove(active[pick % len(active)], step=4)
        elif op == "merge" and len(active) >= 2:
            library.merge(
                [active[pick % len(active)], active[(pick + 1) % len(active)]], text, step=4
            )
        model = state(library)
    library.rollback(4)
    assert {i: v[:2] for i, v in state(library).items()} == before


# --- bounds ---------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=3000).filter(str.strip), min_size=1, max_size=8),
       st.integers(0, 600))  # fmt: skip
def test_the_experience_block_never_exceeds_its_token_budget(texts, budget):
    library = ExperienceLibrary.in_memory()
    for text in texts:
        library.add(text)
    problem = {"id": "p", "question": "How do I count the items?", "answer": "1"}
    found = retrieve_experiences(library, problem, k=8, min_similarity=-1.0, max_tokens=budget)
    assert sum(estimate_tokens(e["text"]) + 2 for e in found) <= budget
