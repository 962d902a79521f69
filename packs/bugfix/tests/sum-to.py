from series import sum_to


def test_ten():
    assert sum_to(10) == 55

def test_zero():
    assert sum_to(0) == 0
