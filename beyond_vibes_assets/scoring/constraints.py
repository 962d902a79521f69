"""Instruction-following constraints: each returns None when it holds, else a short reason."""

from __future__ import annotations

import json
import re
from typing import Any

from .extract import sentences, words


def _count_ok(n: int, c: dict[str, Any]) -> bool:
    return int(c.get("min", 0)) <= n <= int(c.get("max", 10**9))


def check(text: str, c: dict[str, Any]) -> str | None:  # noqa: PLR0911 - one branch per constraint type
    kind = c["type"]
    body = text.strip()
    if kind == "word_count":
        n = len(words(body))
        return None if _count_ok(n, c) else f"{n} words, wanted {c.get('min', 0)}..{c.get('max', 'any')}"
    if kind == "sentence_count":
        n = len(sentences(body))
        return None if _count_ok(n, c) else f"{n} sentences, wanted {c.get('min', 0)}..{c.get('max', 'any')}"
    if kind == "line_count":
        n = len([ln for ln in body.splitlines() if ln.strip()])
        return None if _count_ok(n, c) else f"{n} lines, wanted {c.get('min', 0)}..{c.get('max', 'any')}"
    if kind == "bullet_count":
        n = len([ln for ln in body.splitlines() if re.match(r"^\s*([-*•]|\d+[.)])\s+", ln)])
        return None if _count_ok(n, c) else f"{n} bullets, wanted {c.get('min', 0)}..{c.get('max', 'any')}"
    if kind == "include":
        missing = [w for w in c["words"] if not re.search(rf"\b{re.escape(w)}\b", body, re.IGNORECASE)]
        return f"missing required words {missing}" if missing else None
    if kind == "exclude":
        found = [w for w in c["words"] if re.search(rf"\b{re.escape(w)}\b", body, re.IGNORECASE)]
        return f"contains forbidden words {found}" if found else None
    if kind == "uppercase":
        letters = [ch for ch in body if ch.isalpha()]
        return None if letters and all(ch.isupper() for ch in letters) else "not all letters are uppercase"
    if kind == "lowercase":
        letters = [ch for ch in body if ch.isalpha()]
        return None if letters and all(ch.islower() for ch in letters) else "not all letters are lowercase"
    if kind == "starts_with":
        return None if body.lower().startswith(c["text"].lower()) else f"does not start with {c['text']!r}"
    if kind == "ends_with":
        return None if body.rstrip().lower().endswith(c["text"].lower()) else f"does not end with {c['text']!r}"
    if kind == "no_commas":
        return "contains a comma" if "," in body else None
    if kind == "json_only":
        try:
            json.loads(body)
        except json.JSONDecodeError:
            return "response is not a single JSON value"
        return None
    if kind == "letter_frequency":
        n = body.lower().count(c["letter"].lower())
        return None if _count_ok(n, c) else f"letter {c['letter']!r} appears {n} times"
    if kind == "regex":
        return None if re.search(c["pattern"], body, re.MULTILINE) else f"does not match {c['pattern']!r}"
    raise ValueError(f"unknown constraint type {kind!r}")


CONSTRAINT_TYPES = (
    "word_count", "sentence_count", "line_count", "bullet_count", "include", "exclude", "uppercase",
    "lowercase", "starts_with", "ends_with", "no_commas", "json_only", "letter_frequency", "regex",
)
