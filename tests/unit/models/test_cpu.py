"""The CPU's one compute thread (ted_graph.models.cpu)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ted_graph import embeddings
from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.models.cpu import on_compute_thread


def _name() -> str:
    return threading.current_thread().name


def test_calls_from_many_threads_run_on_one_other_thread():
    with ThreadPoolExecutor(4) as pool:
        names = set(pool.map(lambda _: on_compute_thread(_name), range(16)))
    assert len(names) == 1
    assert names != {_name()}
    assert on_compute_thread(_name) in names


def test_a_call_from_the_compute_thread_runs_directly_instead_of_waiting_on_itself():
    inner = on_compute_thread(lambda: on_compute_thread(_name))
    assert inner == on_compute_thread(_name)


def test_the_function_s_exception_reaches_the_caller():
    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        on_compute_thread(fail)
    assert on_compute_thread(lambda: 7) == 7  # the thread survives it


class _Model:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def encode(self, items, **_: object) -> np.ndarray:
        self.threads.append(_name())
        return np.ones((len(items), 3), dtype=np.float32)


@pytest.mark.parametrize(("device", "on_compute"), [("cpu", True), ("cuda", False)])
def test_embedding_passes_on_the_cpu_run_on_the_compute_thread(monkeypatch, device, on_compute):
    model = _Model()
    monkeypatch.setattr(embeddings, "_load", lambda spec, dev: model)
    vectors = SentenceTransformerEmbedding(device=device)(["a", "b"])
    assert len(vectors) == 2
    assert (model.threads[0] == on_compute_thread(_name)) is on_compute
