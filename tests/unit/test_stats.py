import math

import pytest

from ted_graph.stats import paired_bootstrap, wilson_interval


def test_wilson_interval_known_values():
    low, high = wilson_interval(38, 150)
    # textbook Wilson score interval for 38/150 at z=1.96
    assert math.isclose(low, 0.19049, abs_tol=1e-4) and math.isclose(high, 0.32850, abs_tol=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(0, 10)[1] > 0.2
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] < 0.8
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_wilson_interval_narrows_with_more_items():
    small = wilson_interval(5, 10)
    large = wilson_interval(500, 1000)
    assert small[1] - small[0] > 3 * (large[1] - large[0])
    assert small[0] < 0.5 < small[1] and large[0] < 0.5 < large[1]


def test_paired_bootstrap_difference_and_interval():
    a = [False] * 100
    b = [True] * 30 + [False] * 70
    diff, low, high = paired_bootstrap(a, b, seed=1)
    assert diff == pytest.approx(0.3)
    assert 0.2 < low < 0.3 < high < 0.4
    same = paired_bootstrap(b, b)
    assert same == (0.0, 0.0, 0.0)  # identical systems: no spread at all
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap(a, b[:5])
