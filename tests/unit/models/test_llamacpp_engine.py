"""The llama.cpp engine's bookkeeping (its generation runs in tests/integration)."""

import dataclasses

from ted_graph.models.llamacpp_engine import EngineStats


def test_engine_stats_since_an_earlier_copy_is_the_work_done_in_between():
    stats = EngineStats(prefill_tokens=100, prefill_seconds=1.0, decode_tokens=10)
    earlier = dataclasses.replace(stats)
    stats.prefill_tokens += 50
    stats.prefill_seconds += 0.5
    stats.decode_steps += 3
    assert stats.since(earlier) == EngineStats(
        prefill_tokens=50, prefill_seconds=0.5, decode_tokens=0, decode_steps=3
    )
