"""The built-in text verifiers: pure functions (response, spec) -> Verdict, registered by name (registry.py).

Packs pick verifiers by name, so a user writes a pack with no Python. Each verifier's code version is
the hash of its own source (plus the shared helpers it uses), so editing one verifier makes only the
packs that use it stale.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import jsonschema
import yaml

from . import constraints as constraints_mod
from . import extract, tables, toolcalls
from .registry import Response, Verdict, register_helpers, uses, verifier

uses("tool_call", toolcalls)
uses("constraints", constraints_mod)
uses("markdown_table", tables)


def _ok(passed: bool, reason: str, **detail: Any) -> Verdict:
    return Verdict(passed, 1.0 if passed else 0.0, "" if passed else reason, detail)


@verifier("exact")
def exact(response: Response, spec: dict[str, Any]) -> Verdict:
    """Exact match after normalization (case, whitespace, trailing punctuation); `accept` lists synonyms."""
    cs = bool(spec["case_sensitive"])
    got = extract.normalize(response.text, cs)
    accepted = [spec["answer"], *spec["accept"]]
    ok = any(got == extract.normalize(str(a), cs) for a in accepted)
    if not ok and spec.get("allow_contained"):
        ok = any(re.search(rf"\b{re.escape(extract.normalize(str(a), cs))}\b", got) for a in accepted)
    return _ok(ok, f"expected {spec['answer']!r}, got {response.text.strip()[:80]!r}")


@verifier("numeric")
def numeric(response: Response, spec: dict[str, Any]) -> Verdict:
    """The committed number ('answer is X', else the last number) within an absolute/relative tolerance."""
    got = extract.final_number(response.text)
    want = float(spec["answer"])
    if got is None:
        return _ok(False, "no number in the response")
    tol = max(float(spec["tolerance"]), abs(want) * float(spec["rel_tolerance"]), 1e-9)
    return _ok(math.isclose(got, want, abs_tol=tol), f"expected {want:g}, got {got:g}", extracted=got)


@verifier("regex")
def regex(response: Response, spec: dict[str, Any]) -> Verdict:
    flags = re.IGNORECASE if spec["ignore_case"] else 0
    found = re.search(spec["pattern"], response.text, flags | re.MULTILINE) is not None
    want = spec["must_match"]
    return _ok(found == want, f"pattern {spec['pattern']!r} {'not found' if want else 'found but forbidden'}")


@verifier("choice")
def choice(response: Response, spec: dict[str, Any]) -> Verdict:
    """Exactly one of the offered choices is named, and it is the right one."""
    text = extract.normalize(response.text)
    named = [c for c in spec["choices"] if re.search(rf"(?<![\w]){re.escape(extract.normalize(str(c)))}(?![\w])", text)]
    if len(named) != 1:
        return _ok(False, f"expected exactly one of {spec['choices']}, found {named or 'none'}")
    return _ok(named[0] == spec["answer"], f"chose {named[0]!r}, expected {spec['answer']!r}", chosen=named[0])


@verifier("mentions")
def mentions(response: Response, spec: dict[str, Any]) -> Verdict:
    """Must mention every `must` term, none of `must_not`, within `max_words`."""
    text = response.text.casefold()
    missing = [t for t in spec["must"] if t.casefold() not in text]
    present = [t for t in spec["must_not"] if re.search(rf"\b{re.escape(t.casefold())}\b", text)]
    n_words = len(extract.words(response.text))
    too_long = "max_words" in spec and n_words > int(spec["max_words"])
    reasons = ([f"missing {missing}"] if missing else []) + ([f"mentions forbidden {present}"] if present else [])
    if too_long:
        reasons.append(f"{n_words} words > {spec['max_words']}")
    return _ok(not reasons, "; ".join(reasons), words=n_words)


def _check_expect(value: Any, expect: dict[str, Any]) -> list[str]:
    wrong = []
    for key, want in expect.items():
        got = value.get(key) if isinstance(value, dict) else None
        if isinstance(want, str) and isinstance(got, str):
            ok = extract.normalize(got) == extract.normalize(want)
        elif isinstance(want, (int, float)) and isinstance(got, (int, float)) and not isinstance(got, bool):
            ok = math.isclose(float(got), float(want), abs_tol=1e-6)
        else:
            ok = got == want
        if not ok:
            wrong.append(f"{key}: expected {want!r}, got {got!r}")
    return wrong


@verifier("json_schema")
def json_schema(response: Response, spec: dict[str, Any]) -> Verdict:
    """Valid JSON that satisfies a JSON Schema, and optionally has expected values."""
    try:
        value = extract.find_json(response.text)
    except ValueError:
        return _ok(False, "no valid JSON in the response")
    errors = sorted(jsonschema.Draft202012Validator(spec["schema"]).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        return _ok(False, f"schema violation at /{'/'.join(map(str, err.path))}: {err.message[:120]}")
    wrong = _check_expect(value, spec["expect"])
    return _ok(not wrong, "; ".join(wrong))


@verifier("yaml")
def yaml_doc(response: Response, spec: dict[str, Any]) -> Verdict:
    """Parseable YAML mapping (fenced or bare), optionally with a schema and expected values."""
    try:
        value = yaml.safe_load(extract.strip_fences(response.text))
    except yaml.YAMLError as exc:
        return _ok(False, f"invalid YAML: {str(exc).splitlines()[0]}")
    if not isinstance(value, dict):
        return _ok(False, "YAML is not a mapping")
    if "schema" in spec:
        errors = list(jsonschema.Draft202012Validator(spec["schema"]).iter_errors(value))
        if errors:
            return _ok(False, f"schema violation: {errors[0].message[:120]}")
    wrong = _check_expect(value, spec["expect"])
    return _ok(not wrong, "; ".join(wrong))


@verifier("markdown_table")
def markdown_table(response: Response, spec: dict[str, Any]) -> Verdict:
    """A pipe table with the given header, a separator row, `min_rows` body rows and required cells."""
    rows = [["<sep>"] if tables.is_separator(r) else r for r in tables.pipe_rows(response.text)]
    if len(rows) < 2 or rows[1] != ["<sep>"]:
        return _ok(False, "no Markdown table with a header and separator row")
    header = [extract.normalize(c) for c in rows[0]]
    want = [extract.normalize(c) for c in spec["columns"]]
    if header != want:
        return _ok(False, f"header {rows[0]} != {spec['columns']}")
    body = [r for r in rows[2:] if r != ["<sep>"]]
    if any(len(r) != len(want) for r in body):
        return _ok(False, "a body row has the wrong number of cells")
    if len(body) < int(spec["min_rows"]):
        return _ok(False, f"{len(body)} body rows < {spec['min_rows']}")
    cells = {extract.normalize(c) for r in body for c in r}
    missing = [c for c in spec["cells"] if extract.normalize(str(c)) not in cells]
    return _ok(not missing, f"missing cells {missing}", rows=len(body))


@verifier("fields")
def fields(response: Response, spec: dict[str, Any]) -> Verdict:
    """Field-by-field extraction from a JSON answer: partial credit per correct field."""
    try:
        value = extract.find_json(response.text)
    except ValueError:
        return Verdict(False, 0.0, "no valid JSON in the response", {"fields": {}})
    if not isinstance(value, dict):
        return Verdict(False, 0.0, "JSON answer is not an object", {"fields": {}})
    per_field = {}
    for key, want in spec["fields"].items():
        per_field[key] = not _check_expect(value, {key: want})
    score = sum(per_field.values()) / len(per_field)
    wrong = [k for k, ok in per_field.items() if not ok]
    threshold = float(spec["pass_threshold"])
    return Verdict(score >= threshold, round(score, 4), f"wrong or missing fields: {wrong}" if wrong else "", {"fields": per_field})


@verifier("constraints")
def constraints(response: Response, spec: dict[str, Any]) -> Verdict:
    """Instruction-following: every listed constraint must hold (see scoring/constraints.py)."""
    failures = [msg for c in spec["constraints"] if (msg := constraints_mod.check(response.text, c))]
    passed_n = len(spec["constraints"]) - len(failures)
    return Verdict(not failures, round(passed_n / len(spec["constraints"]), 4), "; ".join(failures),
                   {"constraints_passed": passed_n, "constraints_total": len(spec["constraints"])})


@verifier("tool_call")
def tool_call(response: Response, spec: dict[str, Any]) -> Verdict:
    """Right tool (or none, for traps) with the right arguments; native calls or a prompted JSON call."""
    calls = toolcalls.collect(response.text, response.tool_calls)
    want_tool = spec.get("tool")  # absent: a trap where no tool should be called
    if want_tool is None:
        return _ok(not calls, f"called {[c['name'] for c in calls]} where no tool should be called")
    if not calls:
        return _ok(False, f"no tool call; expected {want_tool}")
    call = calls[0]
    if call["name"] != want_tool:
        return _ok(False, f"called {call['name']!r}, expected {want_tool!r}")
    if not isinstance(call["arguments"], dict):
        return _ok(False, "arguments are not a JSON object")
    wrong = toolcalls.argument_mismatches(call["arguments"], spec["arguments"], exact=spec["exact_args"])
    return _ok(not wrong, "; ".join(wrong), arguments=json.loads(json.dumps(call["arguments"], default=str)))


register_helpers(_ok, _check_expect, common=(extract,))  # part of every verifier's code version
