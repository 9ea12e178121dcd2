import threading
import time

import pytest

from ted_graph.models.local import LocalBatcher


def test_queued_greedy_requests_merge_into_one_call():
    batcher = LocalBatcher()
    release = threading.Event()
    calls = []

    def execute(texts):
        calls.append(list(texts))
        if len(calls) == 1:
            release.wait(5)
        return [[t.upper()] for t in texts]

    results = {}

    def submit(name, key=("g",)):
        results[name] = batcher.run([name], key, mergeable=True, execute=execute)

    first = threading.Thread(target=submit, args=("a",))
    first.start()
    time.sleep(0.1)  # "a" holds the model
    others = [threading.Thread(target=submit, args=(x,)) for x in ("b", "c", "d")]
    for t in others:
        t.start()
    time.sleep(0.2)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert results == {"a": [["A"]], "b": [["B"]], "c": [["C"]], "d": [["D"]]}
    assert calls[0] == ["a"] and sorted(calls[1]) == ["b", "c", "d"] and len(calls) == 2


def test_sampled_requests_and_different_settings_never_merge():
    batcher = LocalBatcher()
    release = threading.Event()
    calls = []

    def execute(texts):
        calls.append(list(texts))
        if len(calls) == 1:
            release.wait(5)
        return [[t] for t in texts]

    threads = [threading.Thread(target=batcher.run, args=(["a"], ("g",), True, execute))]
    threads[0].start()
    time.sleep(0.1)
    threads += [
        threading.Thread(target=batcher.run, args=(["s1"], ("g",), False, execute)),
        threading.Thread(target=batcher.run, args=(["s2"], ("g",), False, execute)),
        threading.Thread(target=batcher.run, args=(["x"], ("other",), True, execute)),
    ]
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)
    release.set()
    for t in threads:
        t.join(5)
    assert sorted(map(tuple, calls)) == [("a",), ("s1",), ("s2",), ("x",)]


def test_a_failure_reaches_every_merged_caller_and_frees_the_model():
    batcher = LocalBatcher()

    def boom(texts):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.run(["a"], ("g",), True, boom)
    assert batcher.run(["b"], ("g",), True, lambda t: [["ok"]]) == [["ok"]]


def test_requests_that_arrive_together_share_the_first_call():
    batcher = LocalBatcher(gather_s=0.5)
    calls = []

    def execute(texts):
        calls.append(sorted(texts))
        return [[t] for t in texts]

    def submit(name, delay):
        time.sleep(delay)
        batcher.run([name], ("g",), True, execute)

    threads = [threading.Thread(target=submit, args=(x, 0.005 * i)) for i, x in enumerate("abc")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert calls == [["a", "b", "c"]]  # one batch, although "a" found the model free


def test_a_lone_request_waits_at_most_the_gather_window():
    batcher = LocalBatcher(gather_s=0.05)
    started = time.monotonic()
    assert batcher.run(["a"], ("g",), True, lambda t: [["ok"]]) == [["ok"]]
    assert time.monotonic() - started < 1.0
