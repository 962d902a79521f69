from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    lines: int
    words: int
    chars: int


def count_text(text: str) -> Counts:
    return Counts(lines=len(text.splitlines()), words=len(text.split()), chars=len(text))
