import json

import pytest

from ted_graph.data.loading import (
    BIGBENCH_TASKS,
    DatasetError,
    load_dataset,
    load_jsonl,
    split,
    validate_problem,
)


def write(tmp_path, rows, name="d.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows))
    return path


def test_jsonl_loads_and_normalises(tmp_path):
    path = write(
        tmp_path,
        [
            {"id": "a", "question": "2+2?", "answer": 4},
            "",
            {"question": "Pick", "answer": "B", "choices": ["x", "y"]},
        ],
    )
    problems = load_jsonl(path)
    assert problems[0] == {"id": "a", "question": "2+2?", "answer": "4"}
    assert problems[1]["answer"] == "y" and problems[1]["id"].startswith("p-")


@pytest.mark.parametrize(
    "row, message",
    [
        ({"id": "a", "answer": "1"}, "d.jsonl:1: field 'question'"),
        ({"id": "a", "question": "  ", "answer": "1"}, "field 'question' is missing or empty"),
        ({"id": "a", "question": "q"}, "field 'answer' is missing"),
        ({"id": "a", "question": "q", "answer": ""}, "field 'answer' is empty"),
        (
            {"id": "a", "question": "q", "answer": "z", "choices": ["x", "y"]},
            "neither one of 'choices'",
        ),
        ({"id": "a", "question": "q", "answer": "x", "choices": "xy"}, "field 'choices'"),
        ({"id": "a", "question": "q", "answer": "1", "images": "a.png"}, "field 'images'"),
        ("[1, 2]", "expected a JSON object"),
        ("{broken", "not valid JSON"),
    ],
)
def test_jsonl_errors_name_file_line_and_field(tmp_path, row, message):
    path = write(tmp_path, [row])
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        load_jsonl(path)


def test_jsonl_duplicate_ids_and_missing_file(tmp_path):
    path = write(tmp_path, [{"id": "a", "question": "q", "answer": "1"}] * 2)
    with pytest.raises(DatasetError, match=":2: field 'id' 'a' repeats line 1"):
        load_jsonl(path)
    with pytest.raises(DatasetError, match="cannot read"):
        load_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetError, match="no problems"):
        load_jsonl(write(tmp_path, [""], "empty.jsonl"))


@pytest.mark.parametrize("task", BIGBENCH_TASKS)
def test_bundled_bigbench_tasks(task):
    problems = load_dataset(f"bigbench:{task}")
    assert len(problems) >= 300
    assert len({p["id"] for p in problems}) == len(problems)
    for p in problems[:50]:
        if "choices" in p:
            assert p["answer"] in p["choices"]


def test_bigbench_choices_are_shuffled_deterministically():
    first = load_dataset("bigbench:date_understanding")
    again = load_dataset("bigbench:date_understanding")
    assert first == again
    positions = {p["choices"].index(p["answer"]) for p in first}
    assert len(positions) > 3  # the source lists the right option first almost always


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="not a bundled task"):
        load_dataset("nope")


def test_split_is_seeded_and_disjoint():
    problems = load_dataset("bigbench:object_counting", limit=50)
    train, test = split(problems, train=10, test=20, seed=3)
    assert (len(train), len(test)) == (10, 20)
    assert not {p["id"] for p in train} & {p["id"] for p in test}
    assert split(problems, train=10, test=20, seed=3) == (train, test)
    with pytest.raises(ValueError):
        split(problems, train=40, test=20)


def test_fixed_test_split_does_not_depend_on_the_training_size():
    problems = load_dataset("bigbench:object_counting", limit=50)
    small_train, test = split(problems, train=5, test=20, seed=1, fixed_test=True)
    big_train, same_test = split(problems, train=30, test=20, seed=1, fixed_test=True)
    assert test == same_test and big_train[:5] == small_train
    assert not {p["id"] for p in big_train} & {p["id"] for p in test}
    assert split(problems, train=5, test=20, seed=1)[0] == small_train  # same shuffle


def test_items_with_two_right_answers_keep_both():
    shapes = load_dataset("bigbench:geometric_shapes")
    both = [p for p in shapes if p.get("accepted")]
    assert len(both) == 72  # circle/ellipse items: either option is scored right upstream
    assert all(set([p["answer"], *p["accepted"]]) <= set(p["choices"]) for p in both)


def test_accepted_answers_are_checked():
    row = {"id": "a", "question": "q?", "answer": "circle", "choices": ["circle", "kite"]}
    assert validate_problem({**row, "accepted": ["kite"]}, "d:1")["accepted"] == ["kite"]
    with pytest.raises(DatasetError, match="d:1: field 'accepted' lists an answer not in"):
        validate_problem({**row, "accepted": ["ellipse"]}, "d:1")
    with pytest.raises(DatasetError, match="d:1: field 'accepted' must be a list"):
        validate_problem({**row, "accepted": "kite"}, "d:1")


def test_easy_vqa_has_real_images_and_one_kind_of_options_per_question():
    from PIL import Image

    items = load_dataset("easy-vqa:test", limit=30)
    assert len({p["images"][0] for p in items}) == 30  # spread over images
    for p in items:
        assert p["answer"] in p["choices"] and len(p["choices"]) in (2, 3, 8)
        assert Image.open(p["images"][0]).size == (64, 64)
    assert [p["id"] for p in load_dataset("easy-vqa:test", limit=30)] == [p["id"] for p in items]
    with pytest.raises(DatasetError, match="easy-vqa:dev: easy-VQA has the splits train, test"):
        load_dataset("easy-vqa:dev")


def test_easy_vqa_names_its_package_when_missing(monkeypatch):
    import importlib.metadata

    real = importlib.metadata.distribution

    def missing(name):
        if name == "easy-vqa":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(DatasetError, match=r"pip install easy-vqa==1.0"):
        load_dataset("easy-vqa")
