"""How far a judge agrees with people on a 1-5 scale (pure): quadratic-weighted Cohen's kappa, Spearman's rho,
the share within one point, and the mean bias (judge - human).

A judge is only worth its agreement with people; these figures are what the judge programs (issue "Judges")
report for the compiled program and its uncompiled baseline on held-out labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def quadratic_kappa(human: Sequence[int], judge: Sequence[int], low: int = 1, high: int = 5) -> float:
    """1 - sum(w * observed) / sum(w * expected), w_ij = (i - j)^2 / (k - 1)^2; expected from the marginals.
    1 = perfect, 0 = chance, negative = worse than chance. Undefined (NaN) when both raters use one value."""
    if len(human) != len(judge) or not human:
        raise ValueError("need two equally long, non-empty rating lists")
    k = high - low + 1
    n = len(human)
    observed = [[0.0] * k for _ in range(k)]
    for h, j in zip(human, judge):
        observed[h - low][j - low] += 1
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * observed[i][j]
            den += w * rows[i] * cols[j] / n
    return float("nan") if den == 0 else 1 - num / den


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for m in range(i, j + 1):
            ranks[order[m]] = (i + j) / 2 + 1  # ties share their average rank
        i = j + 1
    return ranks


def spearman(human: Sequence[float], judge: Sequence[float]) -> float:
    """Pearson correlation of the (tie-averaged) ranks; NaN when either side is constant."""
    rh, rj = _ranks(human), _ranks(judge)
    mh, mj = sum(rh) / len(rh), sum(rj) / len(rj)
    cov = sum((a - mh) * (b - mj) for a, b in zip(rh, rj))
    vh = sum((a - mh) ** 2 for a in rh)
    vj = sum((b - mj) ** 2 for b in rj)
    return float("nan") if vh == 0 or vj == 0 else cov / math.sqrt(vh * vj)


def kappa_interval(human: Sequence[int], judge: Sequence[int], low: int = 1, high: int = 5, rounds: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the quadratic kappa (pairs resampled, seed fixed; resamples where kappa
    is undefined are skipped). On 7 labels a kappa of 0.64 spans about 0.00-0.86: trust is decided on the low end."""
    import random

    rng = random.Random(seed)
    pairs = list(zip(human, judge))
    values = []
    for _ in range(rounds):
        pick = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        value = quadratic_kappa([h for h, _ in pick], [j for _, j in pick], low, high)
        if value == value:
            values.append(value)
    if len(values) < rounds // 2:
        return float("nan"), float("nan")
    values.sort()
    return values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))]


def agreement(human: Sequence[int], judge: Sequence[int], low: int = 1, high: int = 5) -> dict[str, float]:
    """Every figure at once, as the judge assets and the report show them (kappa with its bootstrap interval)."""
    n = len(human)
    lo, hi = kappa_interval(human, judge, low, high) if n >= 2 else (float("nan"), float("nan"))
    return {"n": n, "kappa": quadratic_kappa(human, judge, low, high), "kappa_low": lo, "kappa_high": hi,
            "spearman": spearman(human, judge),
            "within_1": sum(abs(h - j) <= 1 for h, j in zip(human, judge)) / n,
            "bias": sum(j - h for h, j in zip(human, judge)) / n}
