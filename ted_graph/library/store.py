"""Keep the experience library in a LangGraph ``BaseStore`` instead of Chroma.

On LangGraph Server the platform's store (Postgres in a deployment, in memory under
``langgraph dev``) already persists per-assistant data; ``ExperienceLibrary.from_store``
puts the library there::

    from langgraph.store.memory import InMemoryStore
    library = ExperienceLibrary.from_store(InMemoryStore(), namespace=("ted", "math"))

Every library operation (retrieval, usage counters, merges, archive, export) is the same
code as with Chroma: :class:`StoreClient` offers the slice of Chroma's client and
collection API the library uses, over ``store.put/get/search/delete``. Each record is one
store item ``{"document", "metadata", "embedding"}`` under ``namespace + (collection,)``.
Similarity search is exact (cosine over every stored vector, with numpy), which is what a
library of hundreds to a few thousand experiences needs; the store's own vector index is
not required, so any ``BaseStore`` works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from langgraph.store.base import BaseStore

__all__ = ["StoreClient", "StoreCollection"]

_META_KEY = "__collection__"


class StoreCollection:
    """One Chroma-like collection stored as items of a LangGraph store namespace."""

    def __init__(
        self,
        store: BaseStore,
        namespace: tuple[str, ...],
        name: str,
        embedding_function: Callable[[list[str]], Sequence[Any]],
        metadata: dict[str, Any] | None,
    ) -> None:
        self.store, self.name = store, name
        self.namespace = (*namespace, name)
        self._meta_ns = (*namespace, "_collections")
        self._embed = embedding_function
        if self.store.get(self._meta_ns, name) is None:
            self.store.put(self._meta_ns, name, {"metadata": dict(metadata or {})})

    # --- metadata ----------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        item = self.store.get(self._meta_ns, self.name)
        return dict(item.value["metadata"]) if item is not None else {}

    def modify(self, metadata: dict[str, Any]) -> None:
        self.store.put(self._meta_ns, self.name, {"metadata": dict(metadata)})

    # --- reading -----------------------------------------------------------------------
    def _items(self) -> list[Any]:
        items, offset = [], 0
        while True:
            page = self.store.search(self.namespace, limit=1000, offset=offset)
            items += page
            if len(page) < 1000:
                return items
            offset += 1000

    def count(self) -> int:
        return len(self._items())

    def get(
        self,
        ids: list[str] | None = None,
        where: dict[str, Any] | None = None,
        include: Sequence[str] = ("documents", "metadatas"),
    ) -> dict[str, Any]:
        if ids is None:
            items = self._items()
        else:
            items = [i for i in (self.store.get(self.namespace, id_) for id_ in ids) if i]
        if where:
            items = [
                i for i in items if all(i.value["metadata"].get(k) == v for k, v in where.items())
            ]
        return self._result(items, include)

    def query(
        self,
        query_texts: list[str] | None = None,
        n_results: int = 10,
        include: Sequence[str] = ("documents", "metadatas", "distances"),
        query_embeddings: list[Any] | None = None,
    ) -> dict[str, Any]:
        vectors = (
            list(query_embeddings)
            if query_embeddings is not None
            else self._embed(list(query_texts or []))
        )
        items = self._items()
        out: dict[str, Any] = {"ids": [], "documents": [], "metadatas": [], "distances": []}
        if not items:
            return {k: [[] for _ in vectors] for k in out}
        matrix = np.asarray([i.value["embedding"] for i in items], dtype=np.float32)
        for vector in vectors:
            sims = matrix @ np.asarray(vector, dtype=np.float32)
            order = np.argsort(-sims, kind="stable")[:n_results]
            chosen = [items[j] for j in order]
            res = self._result(chosen, include)
            for key in ("ids", "documents", "metadatas"):
                out[key].append(res.get(key, []))
            out["distances"].append([float(1.0 - sims[j]) for j in order])
        return out

    @staticmethod
    def _result(items: list[Any], include: Sequence[str]) -> dict[str, Any]:
        res: dict[str, Any] = {"ids": [i.key for i in items]}
        if "documents" in include:
            res["documents"] = [i.value["document"] for i in items]
        if "metadatas" in include:
            res["metadatas"] = [dict(i.value["metadata"]) for i in items]
        if "embeddings" in include:
            res["embeddings"] = [np.asarray(i.value["embedding"]) for i in items]
        return res

    # --- writing -----------------------------------------------------------------------
    def _put(
        self,
        ids: list[str],
        documents: list[str] | None,
        metadatas: list[dict[str, Any]] | None,
        embeddings: list[Any] | None,
        *,
        must_exist: bool | None,
    ) -> None:
        current = {id_: self.store.get(self.namespace, id_) for id_ in ids}
        if must_exist is False and any(current.values()):
            raise ValueError(
                f"ids already exist in {self.name}: {[i for i in current if current[i]]}"
            )
        if embeddings is None and documents is not None:
            embeddings = list(self._embed(list(documents)))
        for n, id_ in enumerate(ids):
            old = current[id_]
            if must_exist and old is None:
                continue  # Chroma's update skips unknown ids
            value = dict(old.value) if old is not None else {}
            if documents is not None:
                value["document"] = documents[n]
            if metadatas is not None:
                value["metadata"] = dict(metadatas[n])
            if embeddings is not None:
                value["embedding"] = [float(x) for x in embeddings[n]]
            self.store.put(self.namespace, id_, value, index=False)

    def add(
        self,
        ids: list[str],
        documents: list[str],
        metadatas: list[dict[str, Any]],
        embeddings: list[Any] | None = None,
    ) -> None:
        self._put(ids, documents, metadatas, embeddings, must_exist=False)

    def upsert(
        self,
        ids: list[str],
        documents: list[str],
        metadatas: list[dict[str, Any]],
        embeddings: list[Any] | None = None,
    ) -> None:
        self._put(ids, documents, metadatas, embeddings, must_exist=None)

    def update(
        self,
        ids: list[str],
        metadatas: list[dict[str, Any]],
        documents: list[str] | None = None,
    ) -> None:
        self._put(ids, documents, metadatas, None, must_exist=True)

    def delete(self, ids: list[str]) -> None:
        for id_ in ids:
            self.store.delete(self.namespace, id_)


class StoreClient:
    """The part of a Chroma client :class:`~ted_graph.library.library.ExperienceLibrary` calls."""

    def __init__(self, store: BaseStore, namespace: tuple[str, ...] = ("ted",)) -> None:
        if not isinstance(store, BaseStore):
            raise TypeError(f"expected a langgraph BaseStore, got {type(store).__name__}")
        self.store, self.namespace = store, tuple(namespace)

    def get_or_create_collection(
        self,
        name: str,
        embedding_function: Callable[[list[str]], Sequence[Any]],
        metadata: dict[str, Any] | None = None,
        **_: Any,
    ) -> StoreCollection:
        return StoreCollection(self.store, self.namespace, name, embedding_function, metadata)
