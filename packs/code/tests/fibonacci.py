from solution import fibonacci


def test_start():
    assert [fibonacci(i) for i in range(7)] == [0, 1, 1, 2, 3, 5, 8]

def test_large():
    assert fibonacci(90) == 2880067194370816120
