from solution import merge_intervals


def test_overlap():
    assert merge_intervals([[1, 3], [2, 6], [8, 10]]) == [[1, 6], [8, 10]]

def test_unsorted_touching():
    assert merge_intervals([[5, 7], [1, 5]]) == [[1, 7]]

def test_empty():
    assert merge_intervals([]) == []

def test_contained():
    assert merge_intervals([[1, 10], [2, 3]]) == [[1, 10]]
