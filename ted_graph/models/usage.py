"""Token and time accounting for model calls: what a run cost, per model.

:func:`generate` and :func:`generate_iter` report every batch they run to the meters that
are active (``with track_usage() as meter: ...``), so a distillation or an evaluation can
say how many prompt and completion tokens each model processed and how long its calls
took. Tokens are counted with the model's own tokenizer for in-process models (llama.cpp,
transformers); other models use the provider's ``usage_metadata`` where callers pass it,
and otherwise an estimate of four characters a token (``estimated`` is set then).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ted_graph.models.backends import backend_for

__all__ = [
    "ModelUsage",
    "UsageMeter",
    "track_usage",
    "model_name",
    "count_prompt_tokens",
    "count_text_tokens",
]

_ACTIVE: list[UsageMeter] = []
_ACTIVE_GUARD = threading.Lock()


@dataclass
class ModelUsage:
    """What one model did under a meter."""

    calls: int = 0
    prompts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    """Summed duration of the calls (concurrent calls overlap, so this can exceed wall time)."""
    estimated: bool = False
    intervals: list[tuple[float, float]] = field(default_factory=list, repr=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompts": self.prompts,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "seconds": round(self.seconds, 3),
            "busy_seconds": round(busy_seconds(self.intervals), 3),
            "estimated": self.estimated,
        }


class UsageMeter:
    """Thread-safe per-model totals of the generations run while it is active."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.models: dict[str, ModelUsage] = {}
        self.started = time.time()

    def record(
        self,
        name: str,
        *,
        prompts: int,
        prompt_tokens: int,
        completion_tokens: int,
        start: float,
        end: float,
        estimated: bool = False,
    ) -> None:
        with self._lock:
            usage = self.models.setdefault(name, ModelUsage())
            usage.calls += 1
            usage.prompts += prompts
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens
            usage.seconds += end - start
            usage.estimated = usage.estimated or estimated
            usage.intervals.append((start, end))

    def total_tokens(self) -> int:
        with self._lock:
            return sum(u.total_tokens for u in self.models.values())

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {name: usage.to_dict() for name, usage in sorted(self.models.items())}


def busy_seconds(intervals: Sequence[tuple[float, float]]) -> float:
    """Length of the union of ``intervals``: time during which at least one was running."""
    total = 0.0
    end = float("-inf")
    for a, b in sorted(intervals):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


@contextmanager
def track_usage() -> Iterator[UsageMeter]:
    """Count the tokens and time of every generation run inside the block, per model.

    Example:
        >>> with track_usage() as meter:
        ...     pass  # distill(...) or evaluate(...)
        >>> meter.to_dict()
        {}
    """
    meter = UsageMeter()
    with _ACTIVE_GUARD:
        _ACTIVE.append(meter)
    try:
        yield meter
    finally:
        with _ACTIVE_GUARD:
            _ACTIVE.remove(meter)


def metering() -> bool:
    """Whether any meter is active (callers skip the counting work when none is)."""
    return bool(_ACTIVE)


def model_name(model: BaseChatModel) -> str:
    """A short, stable name for ``model`` in usage reports."""
    from pathlib import Path

    path = getattr(model, "model_path", None)
    if path:
        return Path(str(path)).name
    for attr in ("model_id", "model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def count_prompt_tokens(model: BaseChatModel, messages: Sequence[BaseMessage]) -> tuple[int, bool]:
    """Tokens of ``messages`` as the model's chat template renders them, and whether the
    figure is an estimate (models without a local tokenizer)."""
    return backend_for(model).count_prompt_tokens(model, messages)


def count_text_tokens(model: BaseChatModel, text: str) -> tuple[int, bool]:
    """Tokens of a completion ``text`` and whether the figure is an estimate."""
    return backend_for(model).count_text_tokens(model, text)


def record_generation(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    outputs: Sequence[Sequence[str]],
    start: float,
    end: float,
) -> None:
    """Report one finished batch of generations to the active meters."""
    with _ACTIVE_GUARD:
        meters = list(_ACTIVE)
    if not meters:
        return
    estimated = False
    prompt_tokens = completion_tokens = 0
    for prompt, texts in zip(prompts, outputs, strict=True):
        count, est = count_prompt_tokens(model, prompt)
        prompt_tokens += count
        estimated |= est
        for text in texts:
            count, est = count_text_tokens(model, text)
            completion_tokens += count
            estimated |= est
    name = model_name(model)
    for meter in meters:
        meter.record(
            name,
            prompts=len(prompts),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            start=start,
            end=end,
            estimated=estimated,
        )
