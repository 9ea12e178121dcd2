"""Images of a problem: references in the data, LangChain standard content blocks in prompts.

A problem's ``images`` list holds references of any of these kinds:

* a file path, or a ``file://`` URL;
* a ``data:image/...;base64,...`` URL, or bare base64;
* raw ``bytes``, or a ``PIL.Image.Image``.

Remote ``http(s)`` URLs are refused: ted-graph does not download at run time, so fetch
images first. Prompts carry images as LangChain standard content blocks
(``{"type": "image", "base64": ..., "mime_type": ...}``), which every multimodal chat model
integration (OpenAI-compatible VLM servers, Hugging Face endpoints) accepts unchanged.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from PIL import Image, UnidentifiedImageError

__all__ = [
    "ImageError",
    "image_bytes",
    "load_image",
    "image_block",
    "image_blocks",
    "block_image",
    "message_images",
]


class ImageError(ValueError):
    """An image reference that cannot be read; the message says which and why."""


def _describe(ref: Any) -> str:
    if isinstance(ref, str):
        return repr(ref if len(ref) <= 80 else ref[:77] + "...")
    return type(ref).__name__


def image_bytes(ref: Any) -> bytes:
    """The encoded bytes (PNG, JPEG, ...) an image reference points at."""
    if isinstance(ref, Image.Image):
        buf = io.BytesIO()
        ref.save(buf, format="PNG")
        return buf.getvalue()
    if isinstance(ref, (bytes, bytearray)):
        return bytes(ref)
    if not isinstance(ref, str) or not ref.strip():
        raise ImageError(
            f"an image must be a path, data URL, base64, bytes or PIL image, got {_describe(ref)}"
        )
    ref = ref.strip()
    if ref.startswith("data:"):
        header, _, payload = ref.partition(",")
        if ";base64" not in header:
            raise ImageError(f"data URL {_describe(ref)} is not base64-encoded")
        ref = payload
    elif ref.startswith(("http://", "https://")):
        raise ImageError(
            f"remote image {_describe(ref)}: download it first (no network at run time)"
        )
    else:
        path = Path(unquote(urlparse(ref).path) if ref.startswith("file://") else ref).expanduser()
        if path.exists():
            try:
                return path.read_bytes()
            except OSError as exc:
                raise ImageError(f"image file {path}: {exc}") from exc
        looks_like_file = path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}
        if looks_like_file or len(ref) < 64 or "/" in ref[:3]:  # not base64 image data
            raise ImageError(f"image file {path} does not exist")
    try:
        return base64.b64decode(ref, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f"image {_describe(ref)} is neither a file nor base64 data") from exc


def load_image(ref: Any) -> Image.Image:
    """Decode an image reference into an RGB ``PIL.Image`` (raises :class:`ImageError`)."""
    if isinstance(ref, Image.Image):
        return ref.convert("RGB")
    data = image_bytes(ref)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"image {_describe(ref)} is not a readable image ({exc})") from exc
    return image.convert("RGB")


def image_block(ref: Any) -> dict[str, Any]:
    """A LangChain standard image content block holding the image's bytes.

    Example:
        >>> block = image_block(Image.new("RGB", (2, 2), "white"))
        >>> block["type"], block["mime_type"], len(block["base64"]) > 0
        ('image', 'image/png', True)
    """
    data = image_bytes(ref)
    try:
        kind = (Image.open(io.BytesIO(data)).format or "PNG").lower()
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"image {_describe(ref)} is not a readable image ({exc})") from exc
    return {
        "type": "image",
        "base64": base64.b64encode(data).decode("ascii"),
        "mime_type": f"image/{'jpeg' if kind == 'jpg' else kind}",
    }


def image_blocks(refs: list[Any] | None) -> list[dict[str, Any]]:
    """Content blocks for every image of a problem (``[]`` when it has none)."""
    return [image_block(ref) for ref in refs or []]


def block_image(block: Any) -> Any | None:
    """The image reference a content block holds (``None`` for a block without one).

    Reads LangChain's standard ``{"type": "image", "base64" | "url" | "data": ...}`` and
    OpenAI's ``{"type": "image_url", "image_url": {"url": ...}}``.
    """
    if not isinstance(block, dict) or block.get("type") not in ("image", "image_url"):
        return None
    if block["type"] == "image_url":
        url = block.get("image_url")
        ref = url.get("url") if isinstance(url, dict) else url
    else:
        ref = block.get("base64") or block.get("url") or block.get("data")
    if not ref:
        raise ImageError(f"an image block without base64, url or data: {sorted(block)}")
    return ref


def message_images(content: Any) -> list[Any]:
    """Image references in a message's content, in order (``[]`` for plain text).

    Image blocks that carry no bytes or URL (a provider's ``file_id``) are left out.
    """
    if isinstance(content, str):
        return []
    refs = []
    for block in content or []:
        try:
            ref = block_image(block)
        except ImageError:  # e.g. {"type": "image", "file_id": ...}: nothing to read here
            continue
        if ref is not None:
            refs.append(ref)
    return refs
