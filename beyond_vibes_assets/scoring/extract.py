"""Pure helpers that pull an answer out of free text: numbers, JSON, YAML, reasoning blocks."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE_RE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n(.*?)```", re.DOTALL)
# 1,234.5  -3  2.5e3  .75  ; thousands separators only in groups of three
_NUMBER_RE = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_FINAL_RE = re.compile(r"(?:final answer|answer|result|total)\s*(?:is|=|:)?\s*\**\s*\$?\s*([-+]?[\d,]*\.?\d+)", re.IGNORECASE)


def split_reasoning(text: str) -> tuple[str, str]:
    """(answer, reasoning): a thinking model's <think> block is kept apart and never scored."""
    blocks = [m.group(0) for m in _THINK_RE.finditer(text)]
    return _THINK_RE.sub("", text).strip(), "\n".join(blocks)


def normalize(text: str, case_sensitive: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"\s+", " ", text)
    text = text.strip(" .!\"'`*_")
    return text if case_sensitive else text.casefold()


def numbers(text: str) -> list[float]:
    out = []
    for match in _NUMBER_RE.finditer(text):
        raw = match.group(0)
        if not any(ch.isdigit() for ch in raw):
            continue
        try:
            out.append(float(raw.replace(",", "")))
        except ValueError:
            continue
    return out


def final_number(text: str) -> float | None:
    """The answer a model commits to: an explicit 'answer is X', else the last number in the text."""
    explicit = _FINAL_RE.findall(text)
    if explicit:
        try:
            return float(explicit[-1].replace(",", ""))
        except ValueError:
            pass
    found = numbers(text)
    return found[-1] if found else None


def strip_fences(text: str) -> str:
    match = _FENCE_RE.search(text)
    return match.group(1).strip() if match else text.strip()


def find_json(text: str) -> Any:
    """The first JSON value in text (fenced or bare). Raises ValueError when there is none."""
    candidate = strip_fences(text)
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text[i:])
                return value
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object or array found")


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9'’-]+", text)


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p for p in parts if re.search(r"\w", p)]
