"""Count words, lines and characters."""

from .counter import Counts, count_text

__all__ = ["Counts", "count_text"]
