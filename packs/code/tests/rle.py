from solution import rle


def test_runs():
    assert rle('aaab') == 'a3b1'

def test_empty():
    assert rle('') == ''

def test_long():
    assert rle('zzzzzzzzzzzz') == 'z12'
