"""The benchmarks' and the evaluation's percentile: the nearest rank."""

from __future__ import annotations

from common.percentiles import p50_p95, percentile


def test_percentile_picks_the_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(v) for v in range(101)], 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0


def test_no_values_have_a_zero_percentile() -> None:
    assert percentile([], 0.5) == 0.0


def test_p50_p95_are_the_two_percentiles() -> None:
    values = [float(v) for v in range(1, 21)]
    assert p50_p95(values) == (10.0, 19.0)
