"""Experience records in two Chroma-shaped collections: the active one and its archive.

Active experiences live in the main collection, removed and merged ones in
``<collection>_archive``; a record whose status changes moves with its stored embedding.
:class:`Records` reads and writes whole records there; the rest of
:class:`~ted_graph.library.library.ExperienceLibrary` builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ted_graph.library.experience import Experience
from ted_graph.library.usage_log import UsageLog, add_usage

__all__ = ["Records"]


class Records:
    """Whole records by id, where their status says they belong."""

    collection: Any
    archive: Any
    shared: bool
    usage_log: UsageLog

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
                    add_usage(exp, totals[exp.id])
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


def _text_of(exp: Experience | None) -> str | None:
    return exp.text if exp is not None else None
