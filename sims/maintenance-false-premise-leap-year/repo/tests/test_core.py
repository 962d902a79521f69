import pytest
from dates import is_leap_year, parse_date


def test_plain_date():
    assert parse_date("2023-07-14").isoformat() == "2023-07-14"


@pytest.mark.parametrize("year, leap", [(2024, True), (2023, False), (1900, False), (2000, True)])
def test_leap_years(year, leap):
    assert is_leap_year(year) is leap


def test_29_february_in_a_leap_year():
    assert parse_date("2024-02-29").day == 29


@pytest.mark.parametrize("bad", ["2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "24-1-1"])
def test_rejects(bad):
    with pytest.raises(ValueError):
        parse_date(bad)
