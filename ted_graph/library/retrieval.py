"""How a problem's images take part in retrieving experiences.

Experiences are text; a problem may carry images. :class:`ImageRetrieval` decides what the
library embeds to search for a problem with images:

* ``"text"``: the question text and options only. Cheapest and predictable; blind to what
  the image shows, so two problems with the same wording retrieve the same experiences.
* ``"image"``: the text's vector and the images' vectors, averaged with ``image_weight``.
  Needs a CLIP-style embedder (one space for text and images) for the whole library, which
  embeds experiences with CLIP's short-context text tower (77 tokens) and gives lower
  text-to-image similarities than a text model gives text-to-text: lower ``min_similarity``.
* ``"caption"``: a configured chat model (any vision model: the student itself, a remote
  VLM) describes each image once (cached by content); the caption is appended to the query
  text, which the library's own text embedder embeds. Costs one generation per new image.
* ``"auto"`` (default): ``"image"`` when the library's embedder embeds images, else
  ``"text"``.

Example:
    >>> ImageRetrieval("caption")
    Traceback (most recent call last):
    ...
    ValueError: caption retrieval needs a captioner (a chat model that reads images)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from langchain_core.messages import HumanMessage

from ted_graph.data.images import image_block, image_bytes, load_image
from ted_graph.prompts import render

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ted_graph.library.embeddings import SentenceTransformerEmbedding

__all__ = ["ImageRetrieval", "ImageMode"]

ImageMode = Literal["auto", "text", "image", "caption"]
_MODES: tuple[str, ...] = get_args(ImageMode)


class ImageRetrieval:
    """The image policy of an :class:`~ted_graph.library.library.ExperienceLibrary`'s searches.

    Args:
        mode: ``"auto"``, ``"text"``, ``"image"`` or ``"caption"`` (see the module).
        captioner: the chat model that captions images (``"caption"`` mode).
        image_weight: share of the images in the query vector (``"image"`` mode), 0-1.
        caption_tokens: longest caption, in new tokens.
        cache_size: captions kept in memory, keyed by the image's bytes.
    """

    def __init__(
        self,
        mode: ImageMode = "auto",
        *,
        captioner: BaseChatModel | None = None,
        image_weight: float = 0.5,
        caption_tokens: int = 48,
        cache_size: int = 1024,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"image retrieval must be one of {', '.join(_MODES)}, not {mode!r}")
        if mode == "caption" and captioner is None:
            raise ValueError("caption retrieval needs a captioner (a chat model that reads images)")
        if not 0.0 <= image_weight <= 1.0:
            raise ValueError("image_weight must lie in [0, 1]")
        if caption_tokens < 1:
            raise ValueError("caption_tokens must be at least 1")
        self.mode = mode
        self.captioner = captioner
        self.image_weight = image_weight
        self.caption_tokens = caption_tokens
        self._captions: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def effective_mode(self, embedder: SentenceTransformerEmbedding) -> str:
        """``"text"``, ``"image"`` or ``"caption"``: what a search with images does."""
        if self.mode == "auto":
            return "image" if embedder.supports_images else "text"
        return self.mode

    def check(self, embedder: SentenceTransformerEmbedding) -> None:
        """Fail now, not at the first image, when ``"image"`` mode meets a text embedder."""
        if self.mode == "image" and not embedder.supports_images:
            raise ValueError(
                f"image retrieval needs an embedder that embeds images (a CLIP-style "
                f"sentence-transformers model such as clip-ViT-B-32); {embedder.model!r} "
                "embeds text only. Use --image-retrieval text or caption, or another --embedder."
            )

    # --- "image" -----------------------------------------------------------------------
    def query_vector(
        self, embedder: SentenceTransformerEmbedding, text: str, images: Sequence[Any]
    ) -> np.ndarray:
        """The normalised mix of the text's vector and the images' mean vector."""
        pictures = embedder.embed_images([load_image(ref) for ref in images])
        image_vec = _unit(np.mean(np.stack(pictures), axis=0))
        if not text.strip():
            return image_vec
        text_vec = embedder([text])[0]
        return _unit((1.0 - self.image_weight) * text_vec + self.image_weight * image_vec)

    # --- "caption" ---------------------------------------------------------------------
    def captions(self, images: Sequence[Any]) -> list[str]:
        """One caption per image; each distinct image is captioned once."""
        return [self._caption(ref) for ref in images]

    def query_text(self, text: str, images: Sequence[Any]) -> str:
        """``text`` followed by the images' captions."""
        described = [c for c in self.captions(images) if c]
        if not described:
            return text
        return "\n".join([text, *(f"Image: {c}" for c in described)]).strip()

    def _caption(self, ref: Any) -> str:
        from ted_graph.models.generation import generate

        key = hashlib.sha256(image_bytes(ref)).hexdigest()
        with self._lock:
            if key in self._captions:
                self._captions.move_to_end(key)
                return self._captions[key]
        assert self.captioner is not None
        prompt = [
            HumanMessage(content=[{"type": "text", "text": render("caption")}, image_block(ref)])
        ]
        text = generate(self.captioner, [prompt], n=1, max_tokens=self.caption_tokens)[0][0]
        caption = " ".join(text.split())
        with self._lock:
            self._captions[key] = caption
            while len(self._captions) > self._cache_size:
                self._captions.popitem(last=False)
        return caption

    def __repr__(self) -> str:
        extra = f", captioner={type(self.captioner).__name__}" if self.captioner else ""
        return f"ImageRetrieval({self.mode!r}{extra})"


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)
