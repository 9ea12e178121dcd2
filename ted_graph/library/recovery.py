"""Crash safety and undo for :class:`~ted_graph.library.library.ExperienceLibrary`.

Three mechanisms, all built on the library's own collections:

* **batches** (:meth:`Recovery.batch`): writes journaled first (:mod:`ted_graph.library.journal`)
  and undone together if the block raises; :meth:`Recovery.recover` undoes a batch that a
  killed process left open;
* **rollback** (:meth:`Recovery.rollback`): every write since a step undone from the same
  journal;
* **snapshots** (:meth:`Recovery.snapshot`, :meth:`Recovery.restore`,
  :meth:`Recovery.begin_writes`): what a durable distillation checkpoints with its state,
  to restart a step whose writes were cut short.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ted_graph.library.experience import Experience
from ted_graph.library.journal import Journal, JournalEntry

__all__ = ["Recovery", "locked"]

_F = TypeVar("_F", bound=Callable[..., Any])


def locked(method: _F) -> _F:
    """Serialize a read-modify-write of the library between threads of this process.

    Counters are read, incremented and written back; two concurrent requests (a serving
    graph answering in parallel) would otherwise lose one of the updates.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Recovery:
    """Batches, rollback and snapshots; mixed into ``ExperienceLibrary``, whose
    collections, journal, lock and record helpers it uses."""

    collection: Any
    archive: Any
    journal: Journal
    shared: bool
    _lock: threading.RLock
    _batch: str | None

    if TYPE_CHECKING:  # provided by ExperienceLibrary

        def all(self, status: Any = "active") -> list[Experience]: ...
        def _get(self, collection: Any) -> list[Experience]: ...
        def _get_ids(self, ids: list[str], *, pending: bool = True) -> list[Experience]: ...
        def _write_records(
            self, exps: Sequence[Experience], have: dict[str, Experience]
        ) -> None: ...

    # --- batches and rollback -----------------------------------------------------------
    @contextlib.contextmanager
    def batch(self, step: int = 0) -> Iterator[str]:
        """Apply the writes inside the ``with`` block completely or not at all.

        Writes are journaled first (:mod:`ted_graph.library.journal`). If the block raises, they are
        undone before the exception propagates; if the process dies inside it, the batch
        stays marked open and :meth:`recover` undoes it. Other threads' writes wait until
        the batch ends; a batch inside a batch is part of the outer one.
        """
        with self._lock:
            if self._batch is not None:
                yield self._batch
                return
            self._batch = f"b{uuid.uuid4().hex[:16]}"
            self._set_marker("ted_batch", self._batch)
            try:
                yield self._batch
            except BaseException:
                self._undo(self.journal.entries(batch=self._batch))
                raise
            finally:
                self._set_marker("ted_batch", "")
                self._batch = None

    def recover(self) -> int:
        """Undo a batch a dead process left half-applied; returns the records restored.

        Call it from the one process that writes (the distillation graph does, before each
        write step), never from a reader: a batch another live process has open looks the
        same.
        """
        with self._lock:
            open_batch = (self.collection.metadata or {}).get("ted_batch") or ""
            if not open_batch:
                return 0
            restored = self._undo(self.journal.entries(batch=str(open_batch)))
            self._set_marker("ted_batch", "")
            return restored

    def rollback(self, step: int) -> int:
        """Undo every write made at ``step`` or later; returns the records restored.

        Texts, statuses and versions go back to what they were before ``step``; records
        created since are deleted. Usage counters are kept (they record what happened).
        """
        with self._lock:
            return self._undo(self.journal.entries(since_step=step))

    def _journal_before(self, before: dict[str, Experience | None], step: int) -> None:
        images = {i: (e.to_dict() if e is not None else None) for i, e in before.items()}
        self.journal.record(self._batch or f"w{uuid.uuid4().hex[:16]}", step, images)

    def _undo(self, entries: list[JournalEntry]) -> int:
        if not entries:
            return 0
        target = Journal.earliest(entries)
        have = {e.id: e for e in self._get_ids(list(target), pending=False)}
        gone = [i for i, image in target.items() if image is None and i in have]
        for coll in (self.collection, self.archive):
            if gone:
                coll.delete(ids=gone)
        want = []
        for id_, image in target.items():
            if image is None:
                continue
            exp = Experience.from_dict(dict(image))
            current = have.get(id_)
            if current is not None:  # counters are history, not state: keep today's
                _keep_usage(exp, current)
            if current != exp:
                want.append(exp)
        self._write_records(want, have)
        self.journal.delete(entries)
        return len(gone) + len(want)

    def _set_marker(self, key: str, value: str) -> None:
        meta = dict(self.collection.metadata or {})
        meta[key] = value
        self.collection.modify(metadata=meta)

    # --- crash safety ------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        """Every record (all statuses) as plain dicts, to :meth:`restore` later.

        The distillation graph keeps one in its checkpointed state before each step's
        writes, so a run resumed after a crash starts those writes from the same library.
        """
        return [e.to_dict() for e in self.all(status=None)]

    @locked
    def restore(self, snapshot: Sequence[dict[str, Any]]) -> int:
        """Make the library equal to ``snapshot``; returns how many records changed.

        Records already equal are left alone; texts are re-embedded only where a record is
        missing or its text changed. A :attr:`shared` library keeps its usage counters as
        they are: other processes may have counted since the snapshot.
        """
        want = {r["id"]: Experience.from_dict(dict(r)) for r in snapshot}
        have = {e.id: e for coll in (self.collection, self.archive) for e in self._get(coll)}
        if self.shared:
            for id_, exp in want.items():
                if id_ in have:
                    _keep_usage(exp, have[id_])
        extra = [i for i in have if i not in want]
        for coll in (self.collection, self.archive):
            if extra:
                coll.delete(ids=extra)
        changed = [e for i, e in want.items() if have.get(i) != e]
        self._write_records(changed, have)
        return len(extra) + len(changed)

    def begin_writes(self, key: str) -> str | None:
        """Mark writes named ``key`` as in progress; returns the key of unfinished ones.

        A non-``None`` result means an earlier writer stopped half-way (a crash), so its
        caller should :meth:`restore` a snapshot before writing again.
        """
        meta = dict(self.collection.metadata or {})
        unfinished = meta.get("ted_writing") or None
        meta["ted_writing"] = key
        self.collection.modify(metadata=meta)
        return str(unfinished) if unfinished else None

    def end_writes(self) -> None:
        """Clear the mark set by :meth:`begin_writes`."""
        meta = dict(self.collection.metadata or {})
        meta["ted_writing"] = ""
        self.collection.modify(metadata=meta)


def _keep_usage(exp: Experience, current: Experience) -> None:
    exp.retrieved, exp.helpful, exp.harmful = current.retrieved, current.helpful, current.harmful
    exp.last_used_step = current.last_used_step
