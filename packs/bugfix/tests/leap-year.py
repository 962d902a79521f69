from calendar_utils import is_leap


def test_common():
    assert is_leap(2024) and not is_leap(2023)

def test_centuries():
    assert not is_leap(1900) and is_leap(2000)
