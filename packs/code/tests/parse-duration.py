import pytest
from solution import parse_duration


def test_mixed():
    assert parse_duration('1h30m') == 5400 and parse_duration('1h2m3s') == 3723

def test_single():
    assert parse_duration('45s') == 45 and parse_duration('2h') == 7200

def test_invalid():
    for bad in ('', 'abc', '5x', '1m1h'):
        with pytest.raises(ValueError):
            parse_duration(bad)
