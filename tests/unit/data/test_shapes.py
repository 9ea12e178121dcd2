"""geometric_shapes rendered from its SVG paths: parsing, drawing, the dataset."""

import hashlib
import io
import math

import pytest

from ted_graph.data.loading import DatasetError, load_dataset
from ted_graph.data.shapes import PathError, parse_path, render_path, rendered_problems


def test_lines_and_arcs_become_points():
    assert parse_path("M 0,0 L 10,0 M 5,5 L 6,6") == [
        [(0.0, 0.0), (10.0, 0.0)],
        [(5.0, 5.0), (6.0, 6.0)],
    ]
    (arc,) = parse_path("M 10,0 A 10,10 0 0,1 0,10")  # a quarter circle around the origin
    assert arc[-1] == pytest.approx((0.0, 10.0))
    assert all(math.hypot(x, y) == pytest.approx(10.0) for x, y in arc)
    assert all(x >= -1e-9 and y >= -1e-9 for x, y in arc)  # the short way round (sweep 1)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("L 1,2", "must start with M"),
        ("M 1,2 l 3,4", "relative command"),
        ("M 1,2 L 3", "needs 2 numbers"),
        ("", "must start with M"),
    ],
)
def test_unreadable_paths_are_named(bad, message):
    with pytest.raises(PathError, match=message):
        parse_path(bad)


def png(image):
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_rendering_is_deterministic_and_draws_the_strokes():
    d = "M 0,0 L 100,0 L 50,80 L 0,0"
    first, second = render_path(d), render_path(d)
    assert hashlib.sha256(png(first)).digest() == hashlib.sha256(png(second)).digest()
    assert first.size == (256, 256)
    corner = first.getpixel((16, 16 + round((224 - 80 * 2.24) / 2)))  # the first vertex
    assert corner == (0, 0, 0)
    assert first.getpixel((128, 128)) == (255, 255, 255)  # strokes only, no fill


def test_the_rendered_task_shows_the_shape_instead_of_the_svg(tmp_path, monkeypatch):
    monkeypatch.setenv("TED_GRAPH_CACHE", str(tmp_path))
    text = load_dataset("bigbench:geometric_shapes", limit=5)
    shown = load_dataset("bigbench:geometric_shapes_rendered", limit=5)
    for t, s in zip(text, shown, strict=True):
        assert "<path" in t["question"] and "<path" not in s["question"]
        assert s["question"].startswith("The path shown in the image")
        assert (s["choices"], s["answer"], s["id"]) == (t["choices"], t["answer"], t["id"])
        (image,) = s["images"]
        assert image.startswith(str(tmp_path)) and image.endswith(".png")


def test_a_problem_without_a_path_is_named(tmp_path):
    with pytest.raises(PathError, match="q7: no SVG"):
        rendered_problems([{"id": "q7", "question": "Draw?", "answer": "x"}], tmp_path)
    assert issubclass(PathError, ValueError) and not issubclass(PathError, DatasetError)
