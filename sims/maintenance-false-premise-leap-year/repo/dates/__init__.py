from .core import is_leap_year, parse_date

__all__ = ["is_leap_year", "parse_date"]
