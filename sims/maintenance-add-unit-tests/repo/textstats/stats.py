"""Small text statistics used by the newsletter tooling."""

import math
import re
from collections import Counter

WORD = re.compile(r"[A-Za-z']+")


def word_count(text: str) -> int:
    """Number of words (letters and apostrophes)."""
    return len(WORD.findall(text))


def top_words(text: str, n: int = 3, stopwords: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """The n most frequent lower-cased words, ties broken alphabetically; stopwords are skipped."""
    if n < 1:
        raise ValueError("n must be at least 1")
    counts = Counter(w.lower() for w in WORD.findall(text) if w.lower() not in stopwords)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def reading_time(text: str, words_per_minute: int = 200) -> int:
    """Whole minutes to read the text, rounded up; 0 for an empty text."""
    if words_per_minute <= 0:
        raise ValueError("words_per_minute must be positive")
    return math.ceil(word_count(text) / words_per_minute)
