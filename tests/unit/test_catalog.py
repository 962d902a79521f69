"""models.yaml validation: every problem names the file, the entry, the field and the fix."""

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.models_config import load_catalog
from beyond_vibes_assets.catalog.variants import variants
from beyond_vibes_assets.cli.main import main
from tests.conftest import REPO

BASE = """
engines:
  - name: cpu
models:
  - name: tiny
    repo_id: org/tiny-GGUF
    quant_tags: [Q4_1, Q8_0]
"""


def problems(path):
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    return info.value.problems


def test_default_catalog_yields_quant_and_engine_comparisons():
    catalog = load_catalog(REPO / "models.yaml")
    keys = [v.key for v in variants(catalog)]
    assert len(keys) >= 2
    assert "smollm2-135m~Q4_1~cpu" in keys and "smollm2-135m~Q4_1~cpu-q8kv" in keys
    assert "smollm2-135m~Q8_0~cpu-q8kv" not in keys  # the second engine is restricted to one quant


def test_unknown_engine(write_config):
    path = write_config(BASE + "    engines: [gpu]\n")
    (p,) = problems(path)
    assert p.file == str(path) and "tiny" in p.entry and p.field == "engines"
    assert "unknown engine 'gpu'" in p.message and "cpu" in p.fix


def test_literal_api_key_is_rejected_and_never_echoed(write_config):
    secret = "sk-proj-AbCdEf0123456789xyzSECRET"
    path = write_config(BASE + f"  - name: gpt\n    provider: openai\n    api_key_env: {secret}\n")
    (p,) = problems(path)
    assert p.field == "api_key_env" and "gpt" in p.entry
    assert "environment variable" in p.message and "export" in p.fix
    assert secret not in str(p)


def test_api_key_field_is_refused(write_config):
    path = write_config(BASE + "  - name: gpt\n    provider: openai\n    api_key: sk-123456\n    api_key_env: OPENAI_API_KEY\n")
    (p,) = problems(path)
    assert p.field == "api_key" and "sk-123456" not in str(p)


def test_missing_quant_tag(write_config):
    path = write_config(BASE + "    derive: {Q2_K: Q4_1}\n")
    (p,) = problems(path)
    assert p.field == "derive" and "'Q2_K' is not in quant_tags" in p.message and "add 'Q2_K'" in p.fix
    empty = write_config(BASE.replace("[Q4_1, Q8_0]", "[]"), "empty.yaml")
    (p,) = problems(empty)
    assert p.field == "quant_tags" and "at least one" in p.fix


def test_yaml_syntax_error_has_line_number(write_config):
    path = write_config("engines:\n  - name: cpu\nmodels:\n  - name: tiny\n    repo_id: a: b\n    quant_tags: [Q4_1]\n")
    (p,) = problems(path)
    assert p.entry.startswith("line 5") and "YAML syntax error" in p.message


def test_unknown_key_missing_repo_and_duplicates_listed_together(write_config):
    path = write_config(BASE + "    quant_tag: Q4_1\n  - name: tiny\n    quant_tags: [Q4_1]\n")
    found = problems(path)
    messages = [(p.field, p.message) for p in found]
    assert ("quant_tag", "unknown key 'quant_tag'") in messages
    assert ("repo_id", "required field is missing") in messages
    assert ("name", "duplicate model name") in messages


def test_cli_validate_exits_non_zero_with_one_line_per_problem(write_config, capsys):
    path = write_config(BASE + "    engines: [gpu]\n    derive: {Q2_K: Q4_1}\n")
    assert main(["validate", "--config", str(path)]) == 1
    out = capsys.readouterr().err
    assert out.count("error") >= 2 and str(path) in out and "Fix:" in out
    assert main(["validate", "--config", str(REPO / "models.yaml")]) == 0


def test_the_demo_section_names_packs_of_the_packs_folder(write_config, tmp_path, monkeypatch, capsys):
    """`demo.packs` picks what the default demo runs: a typo'd key or a pack the folder lacks is named with its fix
    (a silent typo would make the demo run nothing, or everything)."""
    from beyond_vibes_assets.catalog.resource import CatalogResource
    from tests.conftest import make_pack

    fields = [(p.field, p.message) for p in problems(write_config(BASE + "demo:\n  pack: [a]\n"))]
    assert ("pack", "unknown key 'pack'") in fields, fields
    make_pack(tmp_path / "packs", "math", [{"id": "a", "prompt": "1 + 1?", "check": {"answer": 2}}], verifier="numeric")
    make_pack(tmp_path / "packs", "words", [{"id": "w", "prompt": "say w", "check": {"answer": "w"}}], verifier="exact")
    path = write_config(BASE + "demo:\n  packs: [math, maths]\n")
    cat = CatalogResource(config=str(path), packs=str(tmp_path / "packs"))
    (problem,) = cat.problems()
    assert (problem.file, problem.field) == (str(path), "packs") and "'maths'" in problem.message
    assert "math, words" in problem.fix
    assert main(["validate", "--config", str(path), "--packs", str(tmp_path / "packs")]) == 1
    assert "maths" in capsys.readouterr().err
    path.write_text(BASE + "demo:\n  packs: [words]\n")
    cat.reload()
    assert cat.problems() == [] and cat.demo_pack_names(full=False) == ["words"]
    assert cat.demo_pack_names(full=True) == ["math", "words"]
    path.write_text(BASE)
    cat.reload()
    assert cat.demo_pack_names(full=False) == ["math", "words"]  # no demo section: every pack
