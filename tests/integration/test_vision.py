"""The image path end to end with a tiny random-weight Idefics3 (SmolVLM architecture)."""

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from ted_graph import (
    ExperienceLibrary,
    ImageRetrieval,
    create_serving_graph,
    distill,
    load_chat_model,
)
from ted_graph.cli import cli
from ted_graph.data.loading import load_dataset

pytestmark = pytest.mark.integration


class ProcessorSpy:
    """Wraps the model's processor and records the images it is given."""

    def __init__(self, processor):
        self.processor, self.images = processor, []

    def __getattr__(self, name):
        return getattr(self.processor, name)

    def __call__(self, *, text, images=None, **kwargs):
        for group in images or []:
            self.images.extend(group)
        out = self.processor(text=text, images=images, **kwargs)
        assert images is None or out["pixel_values"].abs().sum() > 0  # real pixel values
        return out


@pytest.fixture(scope="module")
def vlm():
    return load_chat_model("tiny-vlm", max_tokens=8)


def same_pixels(a, b):
    return list(a.convert("RGB").getdata()) == list(b.convert("RGB").getdata())


def test_pixels_reach_the_processor_as_student_teacher_and_server(vlm):
    problem = load_dataset("bigbench:geometric_shapes_rendered", limit=1)[0]
    original = Image.open(problem["images"][0])
    spy = ProcessorSpy(vlm.processor)
    vlm.processor = spy
    try:
        library = ExperienceLibrary.in_memory()
        distill(vlm, vlm, [problem], library=library, epochs=1, n=1, progress=False,
                student_max_tokens=8, teacher_max_tokens=8, skip_solved=False)  # fmt: skip
        # student rollout, teacher solution, teacher comparison: the image every time
        assert len(spy.images) >= 3 and all(same_pixels(i, original) for i in spy.images)
        before = len(spy.images)
        app = create_serving_graph(vlm, library, max_new_tokens=8).compile()
        app.invoke({"question": problem["question"], "images": problem["images"]})
        assert len(spy.images) == before + 1 and same_pixels(spy.images[-1], original)
    finally:
        vlm.processor = spy.processor


@pytest.mark.parametrize("dataset", ["bigbench:geometric_shapes_rendered", "easy-vqa:train"])
def test_ted_distill_and_eval_on_image_datasets(tmp_path, dataset):
    runner = CliRunner()
    lib = str(tmp_path / "lib")
    out = runner.invoke(
        cli,
        ["distill", dataset, "--limit", "2", "--student", "tiny-vlm",
         "--teacher", "tiny-vlm", "--rollouts", "1", "--batch-size", "2", "--epochs", "1",
         "--student-max-tokens", "8", "--teacher-max-tokens", "16", "--library", lib],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    out = runner.invoke(
        cli,
        ["eval", dataset, "--limit", "3", "--student", "tiny-vlm", "--library", lib,
         "--max-tokens", "8"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "accuracy:" in out.output


@pytest.mark.parametrize(
    ("options", "used"),
    [
        (["--embedder", "tiny-clip"], "query_vector"),
        (["--image-retrieval", "caption", "--captioner", "tiny-vlm"], "_caption"),
    ],
    ids=["clip-image-embedding", "caption-from-the-vlm"],
)
def test_image_aware_retrieval_from_the_cli(tmp_path, monkeypatch, options, used):
    calls = []
    method = getattr(ImageRetrieval, used)

    def counted(self, *args):
        calls.append(args)
        return method(self, *args)

    monkeypatch.setattr(ImageRetrieval, used, counted)
    runner = CliRunner()
    lib = ["--library", str(tmp_path / "lib"), *options[:2]]
    out = runner.invoke(cli, ["import", "examples/experiences.json", *lib])
    assert out.exit_code == 0, out.output
    predictions = tmp_path / "p.jsonl"
    out = runner.invoke(
        cli,
        ["eval", "bigbench:geometric_shapes_rendered", "--limit", "2", "--student", "tiny-vlm",
         "--max-tokens", "4", "--min-similarity", "-1", "--predictions", str(predictions),
         *lib, *options[2:]],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert all(row["experience_ids"] for row in rows), rows
    assert len(calls) == 2  # one image per problem went into each retrieval
