from report import average


def test_mean():
    assert average([2, 4, 6]) == 4

def test_empty():
    assert average([]) == 0.0

def test_single():
    assert average([7]) == 7
