"""Small helpers the benchmarks share."""

from __future__ import annotations

import statistics


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of durations given in seconds, in milliseconds."""
    return {
        "p50": 1000 * percentile(values, 50),
        "p95": 1000 * percentile(values, 95),
        "p99": 1000 * percentile(values, 99),
        "mean": 1000 * statistics.fmean(values),
    }
