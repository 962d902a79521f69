from bounds import clamp


def test_inside():
    assert clamp(5, 0, 10) == 5

def test_below_above():
    assert clamp(-3, 0, 10) == 0 and clamp(42, 0, 10) == 10
