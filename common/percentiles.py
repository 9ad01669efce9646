"""The one percentile of the benchmarks and the offline evaluation: nearest rank."""

from __future__ import annotations

import math


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``values``; 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def p50_p95(values: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile, as every benchmark reports them."""
    return percentile(values, 0.50), percentile(values, 0.95)
