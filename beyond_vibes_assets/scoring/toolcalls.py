"""Tool calls from native `tool_calls` or from a prompted JSON reply, and argument comparison."""

from __future__ import annotations

import json
import math
from typing import Any

from .extract import find_json, normalize


def _as_call(name: Any, arguments: Any) -> dict[str, Any] | None:
    if not isinstance(name, str) or not name:
        return None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            pass  # left as a string: the verifier reports malformed arguments
    return {"name": name, "arguments": arguments if arguments is not None else {}}


def collect(text: str, native: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Native calls when the server returned any; else a prompted call {"tool": ..., "arguments": ...}."""
    calls = [c for c in (_as_call(n.get("name"), n.get("arguments")) for n in native or []) if c]
    if calls:
        return calls
    try:
        value = find_json(text)
    except ValueError:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("tool") or item.get("name") or (item.get("function") or {}).get("name")
            args = item.get("arguments", item.get("parameters", item.get("args")))
            call = _as_call(name, args)
            if call and name != "none":
                out.append(call)
    return out


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, str) and isinstance(got, str):
        return normalize(got) == normalize(want)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        try:
            return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return not argument_mismatches(got, want, exact=False)
    return got == want


def argument_mismatches(got: dict[str, Any], want: dict[str, Any], exact: bool = False) -> list[str]:
    """Every expected argument must match (strings normalized, numbers by value); `exact` forbids extras."""
    wrong = [f"{k}: expected {v!r}, got {got.get(k)!r}" for k, v in want.items() if not _same(got.get(k), v)]
    if exact:
        wrong += [f"unexpected argument {k!r}" for k in got if k not in want]
    return wrong
