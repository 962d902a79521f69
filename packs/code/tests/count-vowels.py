from solution import count_vowels


def test_simple():
    assert count_vowels('hello') == 2

def test_upper():
    assert count_vowels('AEIOU xyz') == 5

def test_none():
    assert count_vowels('rhythm') == 0
