from solution import add


def test_ints():
    assert add(2, 3) == 5

def test_negative():
    assert add(-4, 1) == -3

def test_floats():
    assert abs(add(0.1, 0.2) - 0.3) < 1e-9
