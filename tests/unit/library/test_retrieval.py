"""Image-aware retrieval: text only, CLIP-style image embedding, and captions."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fakes import RuleChatModel
from langchain_core.messages import HumanMessage
from PIL import Image

from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.library.library import ExperienceLibrary
from ted_graph.library.prompting import retrieve_experiences
from ted_graph.library.retrieval import ImageRetrieval
from ted_graph.serving.nodes import latest_user_images

LESSONS = [
    "When a shape has three straight sides, it is a triangle; count its corners first.",
    "When counting coloured objects, list each colour with its count before adding them.",
    "A circle has no corners; name the colour of its fill, not of its outline.",
]


def square(colour: str) -> Image.Image:
    return Image.new("RGB", (40, 40), colour)


def png64(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def clip_library() -> ExperienceLibrary:
    lib = ExperienceLibrary.in_memory(embedder="tiny-clip")
    for text in LESSONS:
        lib.add(text)
    return lib


def ranked(lib: ExperienceLibrary, query: str, **kwargs) -> list[tuple[str, float]]:
    return [(e.text, round(s, 5)) for e, s in lib.search(query, k=3, **kwargs)]


def test_the_text_embedder_is_text_only_and_tiny_clip_reads_images(clip_library):
    assert not SentenceTransformerEmbedding().supports_images
    assert clip_library.embedding_function.supports_images
    assert clip_library.image_retrieval.effective_mode(clip_library.embedding_function) == "image"


def test_image_mode_embeds_the_pixels_with_the_text(clip_library, monkeypatch):
    seen: list[Image.Image] = []
    embed = SentenceTransformerEmbedding.embed_images

    def spy(self, images):
        seen.extend(images)
        return embed(self, images)

    monkeypatch.setattr(SentenceTransformerEmbedding, "embed_images", spy)
    text_only = ranked(clip_library, "what shape is this?")
    red = ranked(clip_library, "what shape is this?", images=[png64(square("red"))])
    blue = ranked(clip_library, "what shape is this?", images=[square("blue")])
    assert [img.getpixel((5, 5)) for img in seen] == [(255, 0, 0), (0, 0, 255)]
    assert red != text_only and blue != text_only and red != blue  # the image moved the query


def test_image_weight_zero_is_the_text_query(clip_library):
    lib = ExperienceLibrary(
        client=clip_library.client,
        collection=clip_library.collection.name,
        embedder="tiny-clip",
        images=ImageRetrieval("image", image_weight=0.0),
    )
    text_only = ranked(lib, "what shape is this?")
    assert ranked(lib, "what shape is this?", images=[square("red")]) == text_only


def test_an_image_alone_can_retrieve(clip_library):
    assert len(clip_library.search("", k=2, min_similarity=-1.0, images=[square("green")])) == 2


def test_text_mode_and_a_text_embedder_ignore_images(library):
    for text in LESSONS:
        library.add(text)
    assert library.image_retrieval.effective_mode(library.embedding_function) == "text"
    query = "what shape is this?"
    assert ranked(library, query, images=[square("red")]) == ranked(library, query)
    assert library.search("", images=[square("red")]) == []  # nothing to search with


def test_image_mode_with_a_text_embedder_fails_when_the_library_opens():
    with pytest.raises(ValueError, match="CLIP-style"):
        ExperienceLibrary.in_memory(images="image")


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="captioner"):
        ImageRetrieval("caption")
    with pytest.raises(ValueError, match="one of"):
        ImageRetrieval("pixels")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="image_weight"):
        ImageRetrieval("image", image_weight=1.5)


class Captioner(RuleChatModel):
    """Keeps the messages themselves, to look at the image blocks it was sent."""

    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(messages)
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_caption_mode_captions_each_image_once_and_searches_with_the_caption():
    captioner = Captioner(rule=lambda prompt: "A blue circle.", calls=[], seen=[])
    lib = ExperienceLibrary.in_memory(images=ImageRetrieval("caption", captioner=captioner))
    for text in LESSONS:
        lib.add(text)
    problem = {"id": "p", "question": "What is shown?", "answer": "", "images": [square("blue")]}
    first = retrieve_experiences(lib, problem, k=1, min_similarity=0.0, max_tokens=400)
    again = retrieve_experiences(lib, problem, k=1, min_similarity=0.0, max_tokens=400)
    assert first == again and "circle" in first[0]["text"]
    assert len(captioner.seen) == 1  # cached by the image's bytes
    message = captioner.seen[0][-1]
    assert "Describe this image" in message.content[0]["text"]
    image_blocks = [b for b in message.content if b.get("type") == "image"]
    assert len(image_blocks) == 1
    shown = Image.open(io.BytesIO(base64.b64decode(image_blocks[0]["base64"])))
    assert shown.convert("RGB").getpixel((1, 1)) == (0, 0, 255)  # the problem's own pixels
    assert lib.image_retrieval.query_text("What is shown?", [square("blue")]) == (
        "What is shown?\nImage: A blue circle."
    )


def test_a_store_library_searches_by_image_vector_too(clip_library):
    from langgraph.store.memory import InMemoryStore

    lib = ExperienceLibrary.from_store(InMemoryStore(), embedder="tiny-clip")
    for text in LESSONS:
        lib.add(text)
    query, images = "what shape is this?", [square("red")]
    assert ranked(lib, query, images=images) == ranked(clip_library, query, images=images)


def test_the_drop_in_node_reads_images_from_the_user_turn():
    data_url = f"data:image/png;base64,{png64(square('red'))}"
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What shape?"},
            {"type": "image", "base64": png64(square("blue")), "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": data_url}},
            {"type": "image", "url": "https://example.com/remote.png"},
            {"type": "image", "file_id": "file-abc123"},  # a provider's upload: skipped
        ]
    )
    refs = latest_user_images([HumanMessage(content="earlier"), message])
    assert len(refs) == 2 and refs[1] == data_url  # the remote image is not fetched
    assert latest_user_images([HumanMessage(content="text only")]) == []


def test_the_query_vector_is_unit_length(clip_library):
    retrieval = ImageRetrieval("image", image_weight=0.3)
    vector = retrieval.query_vector(clip_library.embedding_function, "a shape", [square("red")])
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)
