"""Pure statistics: intervals, the headline figure, the frontier, paired tests and the sigma regression rule."""

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


def newcombe_difference(passed_a: int, n_a: int, passed_b: int, n_b: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of p_a - p_b from the two Wilson intervals (Newcombe's hybrid score method, his method 10):
    honest at small n and at 0% or 100%, where a Wald interval is not."""
    if n_a == 0 or n_b == 0:
        return -1.0, 1.0
    pa, pb = passed_a / n_a, passed_b / n_b
    la, ua = wilson(passed_a, n_a, z)
    lb, ub = wilson(passed_b, n_b, z)
    d = pa - pb
    return d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2), d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)


def pareto_front(points: Sequence[tuple[str, float | None, float | None]]) -> set[str]:
    """Names not dominated on (quality up, speed up); points without a speed cannot be placed."""
    placed = [(k, q, s) for k, q, s in points if q is not None and s is not None]
    front = set()
    for k, q, s in placed:
        dominated = any((q2 >= q and s2 >= s) and (q2 > q or s2 > s) for _, q2, s2 in placed)
        if not dominated:
            front.add(k)
    return front


def pooled_rate(packs: Sequence[tuple[int, int]], z: float = 1.96) -> tuple[float, float, float] | None:
    """The headline figure (the same formula as sql/views/002_leaderboard.sql): the mean of per-pack rates
    over (passed, answered) pairs, with a 95% interval that pools the per-pack Agresti-Coull variances.
    The interval is symmetric about the rate before clipping to [0, 1], so the rate always lies inside it."""
    used = [(p, n) for p, n in packs if n > 0]
    if not used:
        return None
    rate = sum(p / n for p, n in used) / len(used)
    var = sum(((p + 2) / (n + 4)) * (1 - (p + 2) / (n + 4)) / (n + 4) for p, n in used)
    half = z * math.sqrt(var) / len(used)
    return rate, max(0.0, rate - half), min(1.0, rate + half)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs: b = passed by A only, c = passed by B only."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_mean(values: Sequence[float], n_boot: int = 10_000, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float, float]:
    """Mean with a percentile bootstrap interval (resampling the values); a fixed seed makes it reproducible."""
    import numpy as np

    if not values:
        return 0.0, 0.0, 0.0
    d = np.array([float(v) for v in values])
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(d.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def paired_bootstrap(pairs: Sequence[tuple[bool, bool]], n_boot: int = 10_000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Difference in pass rate B - A over the same items, with a percentile bootstrap interval that resamples
    items (so the pairing is kept)."""
    return bootstrap_mean([float(b) - float(a) for a, b in pairs], n_boot, seed, level)


def compare_paired(pairs: Sequence[tuple[bool, bool]], seed: int = 0, alpha: float = 0.05) -> dict:
    """McNemar and the paired bootstrap for one A/B comparison, with the verdict the report prints:
    a difference is called only when the 95% interval excludes 0 and McNemar's p < alpha."""
    b = sum(1 for a, bb in pairs if a and not bb)
    c = sum(1 for a, bb in pairs if bb and not a)
    diff, lo, hi = paired_bootstrap(pairs, seed=seed)
    p = mcnemar_exact(b, c)
    # both must agree: with a handful of discordant items the bootstrap interval can exclude 0 while McNemar cannot
    real = not (lo <= 0 <= hi) and p < alpha
    verdict = ("B better" if lo > 0 else "B worse") if real else "no detectable difference"
    return {"items": len(pairs), "a_only": b, "b_only": c, "p_mcnemar": p,
            "diff": diff, "diff_low": lo, "diff_high": hi, "verdict": verdict}


def sigma_regression(earlier: Sequence[float], current: float, n: int, k: float = 2.0,
                     min_points: int = 3) -> dict | None:
    """The sigma rule: `current` more than k sigma below the mean of its own earlier rates is a regression.

    Temperature-0 histories are often identical (sd 0), so sigma is floored at the binomial standard error
    of the mean rate at this n (Agresti-Coull, so it stays above 0 at 0% and 100%). None = no regression or
    too little history (fewer than `min_points` earlier points)."""
    if len(earlier) < min_points or n <= 0:
        return None
    mean = sum(earlier) / len(earlier)
    sd = math.sqrt(sum((r - mean) ** 2 for r in earlier) / (len(earlier) - 1))
    p = (mean * n + 2) / (n + 4)
    sigma = max(sd, math.sqrt(p * (1 - p) / (n + 4)))
    threshold = mean - k * sigma
    if current >= threshold:
        return None
    return {"mean": mean, "sigma": sigma, "threshold": threshold, "rate": current, "drop": mean - current,
            "points": len(earlier)}
