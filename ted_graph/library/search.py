"""Retrieval by meaning: the searches of :class:`~ted_graph.library.library.ExperienceLibrary`.

A query (with its images, as the library's :class:`~ted_graph.library.retrieval.ImageRetrieval`
says) becomes one unit vector; one vector query over the active collection returns the
nearest experiences with their cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.library.experience import Experience
from ted_graph.library.retrieval import ImageRetrieval

__all__ = ["Search"]


class Search:
    """Searches by meaning; mixed into ``ExperienceLibrary``, whose active collection,
    embedding function and image retrieval it uses."""

    collection: Any
    embedding_function: SentenceTransformerEmbedding
    image_retrieval: ImageRetrieval

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        min_similarity: float = 0.0,
        images: Sequence[Any] | None = None,
    ) -> list[tuple[Experience, float]]:
        """The ``k`` active experiences most similar to ``query``, with cosine similarity.

        Results below ``min_similarity`` are dropped. One embedding and one vector query.
        ``images`` (paths, base64, bytes, PIL images) take part as :attr:`image_retrieval`
        says: ignored, embedded with the text, or captioned into it. On a :attr:`shared`
        library the results' usage counters leave out events not folded yet (reading them
        would slow every search); :meth:`get` and :meth:`all` include them.
        """
        if k <= 0 or not (query.strip() or images):
            return []
        if self.collection.count() == 0:  # an empty library: skip embedding the query
            return []
        vector = self.query_vector(query, images=images)
        if vector is None:  # images only, and they are not used
            return []
        return self._nearest(vector, k, min_similarity)

    def search_vector(
        self, vector: Any, *, k: int = 5, min_similarity: float = 0.0
    ) -> list[tuple[Experience, float]]:
        """:meth:`search` for a vector already made by :meth:`query_vector`."""
        if k <= 0 or self.collection.count() == 0:
            return []
        return self._nearest(vector, k, min_similarity)

    def _nearest(
        self, vector: Any, k: int, min_similarity: float
    ) -> list[tuple[Experience, float]]:
        """The vector query both searches share (``k`` positive, the library not empty)."""
        res = self.collection.query(  # active records only: no metadata filter needed
            query_embeddings=[vector],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        out: list[tuple[Experience, float]] = []
        for id_, doc, meta, dist in zip(
            res["ids"][0],
            res["documents"][0],
            res["metadatas"][0],
            res["distances"][0],
            strict=True,
        ):
            if not doc or meta is None:  # deleted by another process while the query ran
                continue
            similarity = 1.0 - float(dist)
            if similarity >= min_similarity:
                out.append((Experience.from_record(id_, doc, meta), similarity))
        return out

    def query_vector(self, query: str, *, images: Sequence[Any] | None = None) -> Any | None:
        """The unit vector :meth:`search` looks up for ``query`` (and ``images``, as
        :attr:`image_retrieval` says); None when there is nothing to look up. A text's
        cosine similarity to it is the score search would give that text."""
        import numpy as np

        images = list(images or [])
        mode = self.image_retrieval.effective_mode(self.embedding_function) if images else "text"
        if mode == "caption":
            query = self.image_retrieval.query_text(query, images)
        if mode == "image":
            vector = self.image_retrieval.query_vector(self.embedding_function, query, images)
        elif query.strip():
            vector = self.embedding_function([query])[0]
        else:
            return None
        vector = np.asarray(vector, dtype=np.float32)
        return vector / (np.linalg.norm(vector) + 1e-12)

    def similar_pairs(self, threshold: float = 0.85) -> list[tuple[Experience, Experience, float]]:
        """Pairs of active experiences whose cosine similarity is at least ``threshold``."""
        res = self.collection.get(include=["documents", "metadatas", "embeddings"])
        ids = res["ids"]
        if len(ids) < 2:
            return []
        import numpy as np

        vectors = np.asarray(res["embeddings"], dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        sims = vectors @ vectors.T
        exps = [
            Experience.from_record(i, d, m)
            for i, d, m in zip(ids, res["documents"], res["metadatas"], strict=True)
        ]
        pairs = []
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                if sims[a, b] >= threshold:
                    pairs.append((exps[a], exps[b], float(sims[a, b])))
        return sorted(pairs, key=lambda p: -p[2])
