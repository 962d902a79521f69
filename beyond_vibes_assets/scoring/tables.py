"""Markdown pipe tables, read one way everywhere: by the markdown_table verifier and the HTML report."""

from __future__ import annotations

import re

_SEPARATOR_CELL = re.compile(r":?-{2,}:?")


def pipe_rows(text: str) -> list[list[str]]:
    """The cells of every line that starts and ends with '|', in order (separator rows included)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|") and len(line) > 1:
            rows.append([c.strip() for c in line[1:-1].split("|")])
    return rows


def is_separator(cells: list[str]) -> bool:
    """A header separator row such as |---|:--:|."""
    return any(cells) and all(_SEPARATOR_CELL.fullmatch(c) for c in cells if c)
