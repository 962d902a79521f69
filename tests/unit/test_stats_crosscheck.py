"""Our statistics against the reference libraries (scipy, scikit-learn), over many random cases: the numbers the
report prints must be the ones a statistician would compute with the standard tools. (statsmodels is not a
dependency; Newcombe's interval is checked against its definition over scipy's Wilson intervals.)"""

import math
import random

import pytest
from scipy import stats as sp
from sklearn.metrics import cohen_kappa_score

from beyond_vibes_assets.scoring.agreement import quadratic_kappa, spearman
from beyond_vibes_assets.stats import mcnemar_exact, newcombe_difference, wilson

RNG = random.Random(21)
CASES = [(RNG.randint(0, n), n) for n in [RNG.randint(1, 400) for _ in range(200)]] + [(0, 7), (7, 7), (0, 1), (1, 1)]


@pytest.mark.parametrize("passed,n", CASES[:60] + CASES[-4:])
def test_wilson_matches_scipy(passed, n):
    ref = sp.binomtest(passed, n).proportion_ci(confidence_level=0.95, method="wilson")
    # our z is the rounded 1.96; scipy uses the exact quantile (1.95996...): agree to 1e-4
    assert wilson(passed, n) == pytest.approx((ref.low, ref.high), abs=1e-4)


def test_mcnemar_exact_matches_scipy_binomial_test():
    for _ in range(300):
        b, c = RNG.randint(0, 40), RNG.randint(0, 40)
        ref = 1.0 if b + c == 0 else sp.binomtest(b, b + c, 0.5).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_newcombe_interval_is_method_10_over_scipy_wilson_intervals():
    for (pa, na), (pb, nb) in zip(CASES[:100], CASES[100:200]):
        la, ua = (lambda r: (r.low, r.high))(sp.binomtest(pa, na).proportion_ci(method="wilson"))
        lb, ub = (lambda r: (r.low, r.high))(sp.binomtest(pb, nb).proportion_ci(method="wilson"))
        d = pa / na - pb / nb
        ref = (d - math.sqrt((pa / na - la) ** 2 + (ub - pb / nb) ** 2),
               d + math.sqrt((ua - pa / na) ** 2 + (pb / nb - lb) ** 2))
        assert newcombe_difference(pa, na, pb, nb) == pytest.approx(ref, abs=2e-4)


def test_quadratic_kappa_and_spearman_match_sklearn_and_scipy():
    for _ in range(200):
        n = RNG.randint(5, 60)
        human = [RNG.randint(1, 5) for _ in range(n)]
        judge = [min(5, max(1, h + RNG.choice((-2, -1, 0, 0, 1)))) for h in human]
        if len(set(human)) < 2 or len(set(judge)) < 2:
            continue
        ref = cohen_kappa_score(human, judge, weights="quadratic", labels=[1, 2, 3, 4, 5])
        assert quadratic_kappa(human, judge) == pytest.approx(ref, abs=1e-9)
        assert spearman(human, judge) == pytest.approx(sp.spearmanr(human, judge).statistic, abs=1e-9)
