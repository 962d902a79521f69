from solution import balanced


def test_ok():
    assert balanced('a(b[c]{d})')

def test_wrong_order():
    assert not balanced('([)]')

def test_unclosed():
    assert not balanced('((')

def test_extra_close():
    assert not balanced(')(')
