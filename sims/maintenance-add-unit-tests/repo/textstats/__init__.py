from .stats import reading_time, top_words, word_count

__all__ = ["reading_time", "top_words", "word_count"]
