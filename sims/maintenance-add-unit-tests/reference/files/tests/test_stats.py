import pytest
from textstats import reading_time, top_words, word_count


def test_word_count_counts_words_with_apostrophes():
    assert word_count("It's a fine day, isn't it?") == 6


def test_word_count_empty():
    assert word_count("") == 0


def test_top_words_orders_by_count_then_alphabetically():
    assert top_words("b a b c a b", n=2) == [("b", 3), ("a", 2)]
    assert top_words("x y", n=2) == [("x", 1), ("y", 1)]


def test_top_words_skips_stopwords_and_lowercases():
    assert top_words("The the cat THE", n=1, stopwords=frozenset({"the"})) == [("cat", 1)]


def test_top_words_rejects_n_below_one():
    with pytest.raises(ValueError):
        top_words("a", n=0)


def test_reading_time_rounds_up():
    assert reading_time("word " * 201) == 2
    assert reading_time("") == 0


def test_reading_time_rejects_bad_speed():
    with pytest.raises(ValueError):
        reading_time("a", words_per_minute=0)
