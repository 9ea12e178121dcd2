"""Usage counts that several processes can record at once without losing any.

A library that lives in one process updates its counters in place (read, add, write back,
under a lock). A library *shared* between processes (a Chroma server, a LangGraph store
behind several server workers) cannot: two processes reading the same counter and writing
it back lose one update, and neither Chroma nor ``BaseStore`` offers an atomic increment.

So a shared library appends each ``record_usage`` call as one immutable event to the side
collection ``<collection>_usage``: an insert with a unique id never conflicts. Reads add
the pending events to the stored counters. :meth:`UsageCounts.fold_usage` moves
pending events into the counters and deletes them; only one process may fold (the
distillation writer does, at the start of each write step).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from ted_graph.library.experience import Experience
from ted_graph.library.recovery import locked

__all__ = ["UsageLog", "UsageCounts", "Pending", "add_usage"]

# per experience: [retrieved, helpful, harmful, last_used_step]
Pending = dict[str, list[int]]


class UsageLog:
    """Append-only usage events in a Chroma-shaped collection (vectors unused)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def append(self, usage: dict[str, tuple[int, int, int]], step: int) -> None:
        event = {"step": step, "usage": {k: list(v) for k, v in usage.items()}}
        self.collection.add(
            ids=[f"u{time.time_ns()}-{uuid.uuid4().hex[:12]}"],
            documents=[json.dumps(event)],
            metadatas=[{"step": step}],
            embeddings=[[1.0]],
        )

    def pending(self) -> tuple[list[str], Pending]:
        """The ids of pending events and their sums per experience."""
        res = self.collection.get(include=["documents"])
        totals: Pending = {}
        for doc in res["documents"]:
            event = json.loads(doc)
            for exp_id, (retrieved, helpful, harmful) in event["usage"].items():
                sums = totals.setdefault(exp_id, [0, 0, 0, -1])
                sums[0] += retrieved
                sums[1] += helpful
                sums[2] += harmful
                if retrieved:
                    sums[3] = max(sums[3], int(event["step"]))
        return list(res["ids"]), totals

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.collection.delete(ids=ids)


def add_usage(exp: Experience, sums: list[int]) -> None:
    """Add one experience's pending ``[retrieved, helpful, harmful, last step]`` to it."""
    exp.retrieved += sums[0]
    exp.helpful += sums[1]
    exp.harmful += sums[2]
    exp.last_used_step = max(exp.last_used_step, sums[3])


class UsageCounts:
    """Recording and folding usage; mixed into ``ExperienceLibrary``, whose usage log,
    lock and record helpers it uses."""

    shared: bool
    usage_log: UsageLog
    _lock: threading.RLock

    if TYPE_CHECKING:  # provided by Records (ted_graph.library.records)

        def _get_ids(self, ids: list[str], *, pending: bool = True) -> list[Experience]: ...
        def _store(self, exps: list[Experience]) -> None: ...

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
                add_usage(exp, totals[exp.id])
            self._store(exps)
            self.usage_log.delete(ids)
            return len(ids)
