"""Images in problems: every kind of reference, clear errors, and pixels in every prompt."""

import base64
import io
import json
import re

import pytest
from PIL import Image

from ted_graph.data.images import ImageError, image_block, load_image
from ted_graph.data.loading import DatasetError, load_jsonl, validate_problem
from ted_graph.distillation.run import distill
from ted_graph.serving.graph import create_serving_graph


@pytest.fixture
def picture(tmp_path):
    image = Image.new("RGB", (8, 6), "white")
    image.putpixel((3, 2), (200, 10, 30))  # one red pixel to recognise it by
    path = tmp_path / "pic.png"
    image.save(path)
    return path


def pixels(image):
    return list(image.convert("RGB").getdata())


def test_every_kind_of_reference_loads_the_same_pixels(picture):
    raw = picture.read_bytes()
    b64 = base64.b64encode(raw).decode()
    refs = [
        str(picture),
        f"file://{picture}",
        f"data:image/png;base64,{b64}",
        b64,
        raw,
        Image.open(picture),
    ]
    want = pixels(Image.open(picture))
    assert all(pixels(load_image(ref)) == want for ref in refs)


@pytest.mark.parametrize(
    "ref, message",
    [
        ("missing/pic.png", "does not exist"),
        ("a/long/folder/name/that/is/not/there/at/all/on/this/disk/image-0001.png", "does not"),
        ("https://example.com/a.png", "download it first"),
        ("data:image/png,notbase64", "not base64-encoded"),
        (base64.b64encode(b"not an image at all, just some text" * 3).decode(), "not a readable"),
        (42, "must be a path"),
    ],
)
def test_bad_references_say_why(ref, message):
    with pytest.raises(ImageError, match=message):
        load_image(ref)


def test_a_bad_image_in_a_dataset_names_the_row_and_index(tmp_path, picture):
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": "a", "question": "What is shown?", "answer": "x", "images": [str(picture)]},
        {"id": "b", "question": "What is shown?", "answer": "x",
         "images": [str(picture), "gone.png"]},
    ]  # fmt: skip
    data.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DatasetError, match=r"d.jsonl:2: field 'images'\[1\]: .*gone.png"):
        load_jsonl(data)
    with pytest.raises(DatasetError, match="must be a list"):
        validate_problem({"question": "q", "answer": "a", "images": "pic.png"}, "row 1")


def sent_images(calls):
    """The images (decoded) inside the prompts a fake model received."""
    found = []
    for prompt in calls:
        for b64 in set(re.findall(r"'base64': '([A-Za-z0-9+/=]+)'", prompt)):
            found.append(Image.open(io.BytesIO(base64.b64decode(b64))))
    return found


def test_the_pixels_reach_student_teacher_and_serving(make_model, picture, library):
    problem = {"id": "p1", "question": "What colour is the dot?", "answer": "red",
               "images": [str(picture)]}  # fmt: skip
    student = make_model(lambda p: "Answer: blue")
    teacher = make_model(lambda p: "It is red.\nHelpful advice: none\nMisleading advice: none")
    distill(student, teacher, [problem], epochs=1, n=1, progress=False)
    want = pixels(Image.open(picture))
    assert [pixels(i) for i in sent_images(student.calls)] == [want]
    # the teacher sees the image when solving, when rationalizing (its solution named no
    # answer) and when comparing, not when writing lessons
    assert len(sent_images(teacher.calls)) == 3
    assert all(pixels(i) == want for i in sent_images(teacher.calls))

    server = make_model(lambda p: "Answer: red")
    app = create_serving_graph(server, library).compile()
    out = app.invoke({"question": problem["question"], "images": problem["images"]})
    assert out["answer"] == "red"
    assert [pixels(i) for i in sent_images(server.calls)] == [want]


def test_image_blocks_are_langchain_standard_blocks(picture):
    block = image_block(str(picture))
    assert set(block) == {"type", "base64", "mime_type"}
    assert block["type"] == "image" and block["mime_type"] == "image/png"
