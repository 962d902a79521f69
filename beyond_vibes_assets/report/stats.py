"""Pure statistics for the report: Wilson intervals and the quality-vs-speed frontier."""

from __future__ import annotations

import math
from collections.abc import Sequence


def wilson(passed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a pass rate; honest at small n and at 0% or 100%."""
    if n == 0:
        return 0.0, 1.0
    p = passed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pareto_front(points: Sequence[tuple[str, float | None, float | None]]) -> set[str]:
    """Names not dominated on (quality up, speed up); points without a speed cannot be placed."""
    placed = [(k, q, s) for k, q, s in points if q is not None and s is not None]
    front = set()
    for k, q, s in placed:
        dominated = any((q2 >= q and s2 >= s) and (q2 > q or s2 > s) for _, q2, s2 in placed)
        if not dominated:
            front.add(k)
    return front
