"""Parse the YYYY-MM-DD dates of the bookings export, strictly."""

import re
from datetime import date

DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_date(text: str) -> date:
    match = DATE_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {text!r}")
    last = 29 if month == 2 and is_leap_year(year) else DAYS[month - 1]
    if not 1 <= day <= last:
        raise ValueError(f"day out of range: {text!r}")
    return date(year, month, day)
