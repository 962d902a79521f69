from numbers_util import gcd


def test_gcd():
    assert gcd(12, 18) == 6 and gcd(7, 5) == 1

def test_zero_negative():
    assert gcd(0, 9) == 9 and gcd(-4, 6) == 2
