from text import count_words


def test_plain():
    assert count_words('one two three') == 3

def test_spaces():
    assert count_words('  one   two ') == 2 and count_words('') == 0
