from window import last_n


def test_some():
    assert last_n([1, 2, 3, 4], 2) == [3, 4]

def test_zero():
    assert last_n([1, 2, 3], 0) == []
