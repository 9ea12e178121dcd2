"""The library's write-ahead journal: before-images of every record a write touches.

Each write (add, update, remove, merge, and the size cap) first stores, in a side
collection ``<collection>_journal``, what the records it is about to change looked like
(``None`` for a record that did not exist), tagged with the write's *batch* and *step*.
That makes two things possible:

* **all-or-nothing batches**: the operations a teacher proposes for one critique run in
  one batch; if one fails, or the process dies half-way, the batch's before-images put
  the library back as it was (:meth:`ExperienceLibrary.batch`, :meth:`~ExperienceLibrary.recover`);
* **rolling back a step**: every write made at a step (a poisoned lesson, a bad merge) is
  undone from the same before-images (:meth:`ExperienceLibrary.rollback`).

Usage counters are not journaled: they record what happened, so a rollback keeps them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Journal", "JournalEntry"]


@dataclass(frozen=True)
class JournalEntry:
    """The state of record ``exp_id`` before a write of ``batch`` at ``step``."""

    id: str
    batch: str
    step: int
    exp_id: str
    before: dict[str, Any] | None
    seq: int


class Journal:
    """Journal entries kept in a Chroma-shaped collection (vectors unused)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self._seq = 0

    def record(self, batch: str, step: int, before: dict[str, dict[str, Any] | None]) -> None:
        """Store the before-images of the records a write is about to change."""
        if not before:
            return
        ids, docs, metas = [], [], []
        for exp_id, image in before.items():
            # nanoseconds, strictly increasing in this process; fits a 64-bit integer
            seq = self._seq = max(time.time_ns(), self._seq + 1)
            ids.append(f"{batch}-{seq}")
            docs.append(json.dumps(image, ensure_ascii=False))
            metas.append({"batch": batch, "step": step, "exp": exp_id, "seq": seq})
        self.collection.add(
            ids=ids, documents=docs, metadatas=metas, embeddings=[[1.0] for _ in ids]
        )

    def entries(
        self, *, batch: str | None = None, since_step: int | None = None
    ) -> list[JournalEntry]:
        """Entries of one batch, or of every step from ``since_step`` on, oldest first."""
        res = self.collection.get(
            where={"batch": batch} if batch is not None else None,
            include=["documents", "metadatas"],
        )
        found = [
            JournalEntry(
                id=id_,
                batch=str(meta["batch"]),
                step=int(meta["step"]),
                exp_id=str(meta["exp"]),
                before=json.loads(doc),
                seq=int(meta["seq"]),
            )
            for id_, doc, meta in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        ]
        if since_step is not None:
            found = [e for e in found if e.step >= since_step]
        return sorted(found, key=lambda e: e.seq)

    def delete(self, entries: list[JournalEntry]) -> None:
        if entries:
            self.collection.delete(ids=[e.id for e in entries])

    @staticmethod
    def earliest(entries: list[JournalEntry]) -> dict[str, dict[str, Any] | None]:
        """Each touched record's state before the first of ``entries`` (oldest first)."""
        state: dict[str, dict[str, Any] | None] = {}
        for entry in entries:
            state.setdefault(entry.exp_id, entry.before)
        return state
