from stats import max_of


def test_positive():
    assert max_of([3, 9, 2]) == 9

def test_negative():
    assert max_of([-5, -2, -9]) == -2
