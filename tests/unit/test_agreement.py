"""Judge agreement statistics against hand-computed values."""

import math

import pytest

from beyond_vibes_assets.scoring.agreement import agreement, quadratic_kappa, spearman


def test_kappa_hand_computed():
    assert quadratic_kappa([1, 3, 5, 2], [1, 3, 5, 2]) == 1.0
    # every cell of the 2x2 table observed once = exactly what the marginals predict: chance agreement
    assert quadratic_kappa([1, 1, 2, 2], [1, 2, 1, 2]) == pytest.approx(0.0)
    # complete reversal at the ends: observed weighted disagreement 2, expected 1 -> 1 - 2/1
    assert quadratic_kappa([1, 5], [5, 1]) == pytest.approx(-1.0)
    # human [1,2,3] judge [1,2,2]: w = d^2/16; observed sum = w(3,2) = 1/16;
    # expected = sum_ij w_ij r_i c_j / 3 with rows {1:1,2:1,3:1}, cols {1:1,2:2}:
    # (w11*1 + w12*2 + w21*1 + w22*2 + w31*1 + w32*2)/3 = (0 + 2/16 + 1/16 + 0 + 4/16 + 2/16)/3 = 9/48
    assert quadratic_kappa([1, 2, 3], [1, 2, 2]) == pytest.approx(1 - (1 / 16) / (9 / 48))
    assert math.isnan(quadratic_kappa([3, 3], [3, 3]))


def test_spearman_hand_computed_with_ties():
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # ranks h = [1, 2.5, 2.5, 4], j = [1, 2, 3.5, 3.5]: cov 3.75, var 4.5 and 4.5 -> 3.75 / 4.5
    assert spearman([1, 2, 2, 3], [1, 2, 3, 3]) == pytest.approx(3.75 / 4.5)


def test_within_one_and_bias():
    out = agreement([1, 2, 3, 4, 5], [2, 3, 4, 5, 5])
    assert out["within_1"] == 1.0 and out["bias"] == pytest.approx(0.8) and out["n"] == 5
    assert agreement([1, 5], [4, 5])["within_1"] == 0.5
