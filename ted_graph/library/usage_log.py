"""Usage counts that several processes can record at once without losing any.

A library that lives in one process updates its counters in place (read, add, write back,
under a lock). A library *shared* between processes (a Chroma server, a LangGraph store
behind several server workers) cannot: two processes reading the same counter and writing
it back lose one update, and neither Chroma nor ``BaseStore`` offers an atomic increment.

So a shared library appends each ``record_usage`` call as one immutable event to the side
collection ``<collection>_usage``: an insert with a unique id never conflicts. Reads add
the pending events to the stored counters. :meth:`ExperienceLibrary.fold_usage` moves
pending events into the counters and deletes them; only one process may fold (the
distillation writer does, at the start of each write step).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

__all__ = ["UsageLog", "Pending"]

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
