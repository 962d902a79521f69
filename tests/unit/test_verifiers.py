"""Each built-in verifier with a passing, a failing and a near-miss response."""

import pytest

from beyond_vibes_assets.scoring import extract
from beyond_vibes_assets.scoring.registry import VERIFIERS, Response, code_version, verify


def v(name, text, spec, tool_calls=None):
    return verify(name, Response(text, tool_calls or []), spec)


@pytest.mark.parametrize("text,ok", [("Paris", True), ("paris.", True), ("  PARIS!", True), ("Paris, France", False), ("Pariss", False)])
def test_exact(text, ok):
    assert v("exact", text, {"answer": "Paris"}).passed is ok


def test_exact_accepts_synonyms_and_containment():
    assert v("exact", "NYC", {"answer": "New York", "accept": ["NYC"]}).passed
    assert v("exact", "It is Paris.", {"answer": "Paris", "allow_contained": True}).passed
    assert not v("exact", "It is Parisian.", {"answer": "Paris", "allow_contained": True}).passed


@pytest.mark.parametrize("text,ok", [
    ("84", True), ("12 * 7 = 84", True), ("The answer is 84.", True), ("Answer: 1,234", False),
    ("I think 83", False), ("12*7 is 84, not 85", False), ("no idea", False), ("Answer: 84.0", True),
])
def test_numeric_commits_to_final_number(text, ok):
    assert v("numeric", text, {"answer": 84}).passed is ok


def test_numeric_tolerance_near_miss_and_thousands():
    assert v("numeric", "about 2205.004", {"answer": 2205, "tolerance": 0.01}).passed
    assert not v("numeric", "2205.5", {"answer": 2205, "tolerance": 0.01}).passed
    assert v("numeric", "Answer: 12,600", {"answer": 12600}).passed
    assert v("numeric", "-7", {"answer": -7}).passed


def test_regex_and_forbidden_regex():
    assert v("regex", "Order 88-B shipped", {"pattern": r"\b88-B\b"}).passed
    assert not v("regex", "Order 88-C", {"pattern": r"\b88-B\b"}).passed
    assert not v("regex", "password: hunter2", {"pattern": "password", "must_match": False}).passed


def test_choice_requires_exactly_one_correct_choice():
    spec = {"answer": "B", "choices": ["A", "B", "C"]}
    assert v("choice", "B", spec).passed
    assert not v("choice", "A or B", spec).passed
    assert not v("choice", "C", spec).passed


def test_mentions_with_length_limit():
    spec = {"must": ["beacon"], "must_not": ["java"], "max_words": 6}
    assert v("mentions", "The beacon shone brightly", spec).passed
    assert not v("mentions", "The beacon shone brightly over the dark sea", spec).passed  # 8 words
    assert not v("mentions", "A beacon in Java", spec).passed
    assert v("mentions", "A beacon in JavaScript land", {"must": ["beacon"], "must_not": ["java"]}).passed


SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}


def test_json_schema_pass_fenced_fail_and_near_miss():
    assert v("json_schema", '```json\n{"name": "Ada", "age": 36}\n```', {"schema": SCHEMA, "expect": {"name": "ada"}}).passed
    assert v("json_schema", 'Sure! {"name": "Ada", "age": 36} hope it helps', {"schema": SCHEMA}).passed
    near = v("json_schema", '{"name": "Ada", "age": "36"}', {"schema": SCHEMA})
    assert not near.passed and "/age" in near.reason
    assert not v("json_schema", '{"name": "Ada", "age": 35}', {"schema": SCHEMA, "expect": {"age": 36}}).passed
    assert not v("json_schema", "name: Ada", {"schema": SCHEMA}).passed


def test_yaml():
    assert v("yaml", "host: localhost\nport: 8080\n", {"expect": {"host": "localhost", "port": 8080}}).passed
    assert not v("yaml", "host: localhost\nport: '8081'\n", {"expect": {"port": 8080}}).passed
    assert not v("yaml", "host: [oops\n", {}).passed
    assert not v("yaml", "- just\n- a list\n", {}).passed


TABLE = "| Planet | Moons |\n|---|---|\n| Earth | 1 |\n| Mars | 2 |\n"


def test_markdown_table():
    spec = {"columns": ["Planet", "Moons"], "min_rows": 2, "cells": ["Earth", "Mars"]}
    assert v("markdown_table", "Here:\n" + TABLE, spec).passed
    assert not v("markdown_table", TABLE.replace("|---|---|\n", ""), spec).passed  # no separator row
    assert not v("markdown_table", TABLE.replace("Moons", "Satellites"), spec).passed
    assert not v("markdown_table", TABLE.replace("| Mars | 2 |\n", ""), spec).passed


def test_fields_partial_credit():
    spec = {"fields": {"city": "Oslo", "high_c": -2, "wind_kmh": 20, "snow": True}}
    full = v("fields", '{"city": "oslo", "high_c": -2.0, "wind_kmh": 20, "snow": true}', spec)
    assert full.passed and full.score == 1.0
    part = v("fields", '{"city": "Oslo", "high_c": 2, "wind_kmh": 20}', spec)
    assert not part.passed and part.score == 0.5 and part.detail["fields"] == {"city": True, "high_c": False, "wind_kmh": True, "snow": False}
    assert v("fields", '{"city": "Oslo", "high_c": -2, "wind_kmh": 20}', {**spec, "pass_threshold": 0.75}).passed


def test_constraints():
    spec = {"constraints": [{"type": "word_count", "max": 5}, {"type": "uppercase"}, {"type": "include", "words": ["HELLO"]}]}
    assert v("constraints", "HELLO NEW COLLEAGUE", spec).passed
    near = v("constraints", "HELLO new colleague", spec)
    assert not near.passed and near.score == pytest.approx(2 / 3, abs=1e-3) and "uppercase" in near.reason
    assert v("constraints", "- a\n- b\n- c", {"constraints": [{"type": "bullet_count", "min": 3, "max": 3}]}).passed
    assert not v("constraints", "Autumn comes, leaves fall.", {"constraints": [{"type": "no_commas"}]}).passed
    assert v("constraints", "That is all. Done. That is all.", {"constraints": [{"type": "ends_with", "text": "That is all."}]}).passed
    assert v("constraints", "A big cat.", {"constraints": [{"type": "exclude", "words": ["at"]}]}).passed  # word, not substring


def test_tool_call_native_prompted_and_traps():
    spec = {"tool": "get_weather", "arguments": {"city": "Paris"}}
    native = [{"name": "get_weather", "arguments": '{"city": "paris"}'}]
    assert v("tool_call", "", spec, native).passed
    assert v("tool_call", '{"tool": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}', spec).passed
    assert not v("tool_call", '{"tool": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}', {**spec, "exact_args": True}).passed
    assert not v("tool_call", "", spec, [{"name": "get_weather", "arguments": '{"city": "Lyon"}'}]).passed
    assert not v("tool_call", "", spec, [{"name": "send_email", "arguments": "{}"}]).passed
    assert not v("tool_call", "It is sunny in Paris.", spec).passed
    trap = {"tool": None}
    assert v("tool_call", "I am fine, thanks!", trap).passed
    assert v("tool_call", '{"tool": "none"}', trap).passed
    assert not v("tool_call", "", trap, [{"name": "get_weather", "arguments": "{}"}]).passed
    assert v("tool_call", "", {"tool": "convert_currency", "arguments": {"amount": 250}},
             [{"name": "convert_currency", "arguments": '{"amount": "250.0"}'}]).passed


def test_verifier_errors_are_verdicts_not_crashes():
    verdict = v("numeric", "42", {})  # spec lacks 'answer'
    assert not verdict.passed and verdict.reason.startswith("verifier error")


def test_code_versions_are_per_verifier():
    versions = {name: code_version(name) for name in VERIFIERS}
    assert len(set(versions.values())) == len(versions)


def test_split_reasoning_keeps_but_does_not_score_thinking():
    answer, think = extract.split_reasoning("<think>12*7 = 74? no, 84</think>The answer is 84.")
    assert answer == "The answer is 84." and "74" in think


def test_verify_all_keeps_order_runs_side_by_side_and_a_stop_drops_what_has_not_started(monkeypatch):
    """Sandboxed verifiers' calls run on a pool (one per core, here 2), verdicts in the calls' order, text verifiers
    in place; a stop signal raised during the calls ends verify_all without running the calls still queued."""
    import threading
    import time

    from beyond_vibes_assets.runner.stop_signals import StopRequested
    from beyond_vibes_assets.scoring import registry as R

    threads, started = set(), []

    def slow(response, spec):
        started.append(response.text)
        threads.add(threading.get_ident())
        time.sleep(0.05)
        if response.text == "stop":
            raise StopRequested(2)
        return R.Verdict(response.text.endswith("ok"), 1.0)

    R.verifiers()
    monkeypatch.setitem(R._VERIFIERS, "slow_fake", slow)
    monkeypatch.setattr(R, "_SIDE_BY_SIDE", R._SIDE_BY_SIDE | {"slow_fake"})
    calls = [("slow_fake", Response(f"{i} ok" if i % 3 else f"{i} no"), {}) for i in range(8)]
    calls.insert(4, ("exact", Response("Paris"), {"answer": "Paris"}))
    verdicts = R.verify_all(calls, workers=2)
    assert [v.passed for v in verdicts] == [False, True, True, False, True, True, True, False, True]
    assert len(threads) == 2 and threading.get_ident() not in threads
    started.clear()
    with pytest.raises(StopRequested):
        R.verify_all([("slow_fake", Response("stop"), {})] + [("slow_fake", Response(f"{i} ok"), {}) for i in range(40)],
                     workers=2)
    assert len(started) <= 4, started  # the stop, the call beside it and at most the next pair; not all 41


def test_verify_all_knows_the_side_by_side_verifiers_before_any_other_lookup():
    """The sandboxed verifiers declare themselves when their plugin loads; verify_all loads the plugins first, so the
    first scoring in a fresh process is not silently one call at a time."""
    import subprocess
    import sys

    code = ("from beyond_vibes_assets.scoring import registry as R; R.verify_all([]); "
            "print(' '.join(sorted(R._SIDE_BY_SIDE)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert {"python_tests", "patch_tests", "shell_state", "python"} <= set(out)
