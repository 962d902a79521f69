from names import initials


def test_two():
    assert initials('Ada Lovelace') == 'A.L.'

def test_lower_three():
    assert initials('grace brewster hopper') == 'G.B.H.'
