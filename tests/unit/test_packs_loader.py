"""Custom packs without Python: validation with file/line/field/fix, fingerprints per verifier."""

import json

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.packs import discover_packs, load_pack
from beyond_vibes_assets.scoring import registry as V
from tests.conftest import REPO, make_pack


def test_builtin_packs_are_valid_and_large_enough():
    packs = discover_packs(REPO / "packs")
    assert {"toolcall", "instruct", "structout", "reasonmath", "dataextract"} <= set(packs)
    for pack in packs.values():
        assert len(pack.items) >= 15, pack.name
        assert {"easy", "medium", "hard"} <= {i.difficulty for i in pack.items}, pack.name
    traps = [i for i in packs["toolcall"].items if i.check["tool"] is None]
    assert len(traps) >= 3


def test_custom_pack_with_builtin_verifier(tmp_path):
    make_pack(tmp_path, "capitals", [{"id": "fr", "prompt": "Capital of France?", "check": {"answer": "Paris"}},
                                     {"id": "it", "prompt": "Capital of Italy?", "check": {"answer": "Rome"}}],
              verifier="exact", system_prompt="One word.", few_shot=[{"user": "Capital of Spain?", "assistant": "Madrid"}])
    pack = load_pack(tmp_path / "capitals")
    assert [i.id for i in pack.items] == ["fr", "it"] and pack.verifiers == ["exact"]
    assert pack.meta.few_shot[0].assistant == "Madrid"


def test_malformed_item_line_is_rejected_with_its_line_number(tmp_path):
    folder = make_pack(tmp_path, "broken", [{"id": "a", "prompt": "p", "check": {"answer": 1}}], verifier="numeric")
    with open(folder / "items.jsonl", "a") as fh:
        fh.write('{"id": "b", "prompt": "p", "check": {"answer": 2}\n')  # missing brace
        fh.write(json.dumps({"id": "c", "prompt": "p", "check": {}}) + "\n")  # numeric needs answer
        fh.write(json.dumps({"id": "a", "prompt": "p", "check": {"answer": 3}, "colour": 1}) + "\n")
    with pytest.raises(ConfigError) as info:
        load_pack(folder)
    found = {(p.entry, p.field) for p in info.value.problems}
    assert ("line 2", "") in found
    assert ("line 3", "check.answer") in found
    assert ("line 4", "colour") in found
    assert all(str(folder / "items.jsonl") == p.file for p in info.value.problems)
    assert "not valid JSON" in str(info.value)


def test_unknown_verifier_lists_the_library(tmp_path):
    folder = make_pack(tmp_path, "p", [{"id": "a", "prompt": "p", "check": {}}], verifier="vibes")
    with pytest.raises(ConfigError) as info:
        load_pack(folder)
    assert "numeric" in str(info.value) and "json_schema" in str(info.value)


def test_changing_one_verifier_changes_only_its_packs_fingerprint(monkeypatch):
    before = {name: p.fingerprint for name, p in discover_packs(REPO / "packs").items()}

    def numeric_v2(response, spec):  # a different implementation: its source differs
        return V.Verdict(True, 1.0)

    monkeypatch.setitem(V.VERIFIERS, "numeric", numeric_v2)
    after = {name: p.fingerprint for name, p in discover_packs(REPO / "packs").items()}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"reasonmath"}


def test_every_verifier_has_a_spec_model():
    from beyond_vibes_assets.scoring.specs import SPECS

    assert set(SPECS) == set(V.VERIFIERS)


@pytest.mark.parametrize("verifier, check, field, words", [
    ("numeric", {"answer": "eighty-four"}, "check.answer", "number"),
    ("tool_call", {"tool": "get_weather", "argz": {}}, "check.argz", "unknown key"),
    ("regex", {"pattern": "(unclosed"}, "check.pattern", "invalid regular expression"),
    ("json_schema", {"schema": {"type": "objekt"}}, "check.schema", "invalid JSON Schema"),
    ("constraints", {"constraints": [{"type": "word_count", "min": "many"}]}, "check.constraints.0.min", "integer"),
    ("choice", {"answer": "D", "choices": ["A", "B"]}, "check", "one of choices"),
])
def test_a_wrong_check_is_a_load_time_error_naming_line_and_field(tmp_path, verifier, check, field, words):
    folder = make_pack(tmp_path, "p", [{"id": "ok", "prompt": "p", "check": {"answer": 1}, "verifier": "numeric"},
                                       {"id": "bad", "prompt": "p", "check": check, "verifier": verifier}])
    with pytest.raises(ConfigError) as info:
        load_pack(folder)
    (problem,) = info.value.problems
    assert problem.entry == "line 2" and problem.field == field, problem
    assert words in str(problem)
