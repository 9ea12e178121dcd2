"""Confidence intervals for accuracies and for paired differences between two systems."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["wilson_interval", "paired_bootstrap"]


def wilson_interval(correct: int, total: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% for ``z=1.96``).

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0 or ``total``
    correct, which matters for the small test sets of reasoning benchmarks.
    """
    if total < 0 or not 0 <= correct <= total:
        raise ValueError(f"need 0 <= correct <= total, got {correct}/{total}")
    if total == 0:
        return 0.0, 1.0
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_bootstrap(
    a: Sequence[bool],
    b: Sequence[bool],
    *,
    iterations: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Accuracy difference ``mean(b) - mean(a)`` on the same items, with a percentile
    bootstrap interval that resamples items (so both systems see the same resample).

    Returns:
        ``(difference, low, high)``.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        raise ValueError("paired_bootstrap needs at least one item")
    import numpy as np

    deltas = np.array([int(y) - int(x) for x, y in zip(a, b, strict=True)], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = deltas[rng.integers(0, n, size=(iterations, n))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(deltas.mean()), float(low), float(high)
