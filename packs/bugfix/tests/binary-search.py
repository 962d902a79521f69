from search import find


def test_found():
    assert find([1, 3, 5, 7, 9], 9) == 4 and find([1, 3, 5, 7, 9], 1) == 0

def test_single():
    assert find([4], 4) == 0

def test_missing():
    assert find([1, 3], 2) == -1 and find([], 1) == -1
