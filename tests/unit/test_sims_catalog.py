"""Sim tasks as data: loading with file/entry/field/fix problems, prompt variables, and the pure criteria helpers."""

import pytest
import yaml

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.sims import load_sim
from beyond_vibes_assets.scoring.criteria import check_citations, check_grounding, cited_functions, cited_paths


def make_sim(root, task: dict, files: dict | None = None):
    folder = root / "s1"
    (folder / "repo").mkdir(parents=True)
    for rel, text in (files or {"app.py": "def run():\n    pass\n"}).items():
        (folder / "repo" / rel).write_text(text)
    (folder / "task.yaml").write_text(yaml.safe_dump(task))
    return folder


BASE = {"archetype": "planning", "description": "d", "prompt": "Plan {thing}.", "vars": {"thing": "auth"},
        "criteria": [{"type": "file_exists", "path": "PLAN.md"}], "reference": {"overlay": None}}


def test_prompt_variables_have_defaults_and_overrides(tmp_path):
    sim = load_sim(make_sim(tmp_path, BASE))
    assert sim.prompt() == "Plan auth." and sim.prompt({"thing": "caching"}) == "Plan caching."
    assert sim.repo_files == ["app.py"] and len(sim.fingerprint) == 16


def test_problems_name_file_field_and_fix(tmp_path):
    bad = {**BASE, "archetype": "vibes", "prompt": "Plan {missing}.",
           "criteria": [{"type": "answer", "verifier": "numeric", "check": {"answer": "x"}},
                        {"type": "file_exists", "path": "../etc/passwd"}, {"type": "telepathy"}],
           "reference": {"answer": "reference/nowhere.md", "overlay": None}}
    with pytest.raises(ConfigError) as info:
        load_sim(make_sim(tmp_path, bad))
    fields = {p.field for p in info.value.problems}
    assert "archetype" in fields and any(f.startswith("criteria.0") for f in fields)
    assert any(f.startswith("criteria.1") for f in fields) and any(f.startswith("criteria.2") for f in fields)
    assert all(p.file.endswith("task.yaml") and p.fix for p in info.value.problems)


def test_missing_variable_default_and_missing_reference_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="no default"):
        load_sim(make_sim(tmp_path, {**BASE, "vars": {}}))
    with pytest.raises(ConfigError, match="reference.answer"):
        load_sim(make_sim(tmp_path / "b", {**BASE, "reference": {"overlay": None, "answer": "reference/a.md"}}))


def test_editing_a_fixture_file_changes_only_that_sims_fingerprint(tmp_path):
    folder = make_sim(tmp_path, BASE)
    before = load_sim(folder).fingerprint
    (folder / "repo" / "app.py").write_text("def run():\n    return 1\n")
    assert load_sim(folder).fingerprint != before


def test_citations_real_proposed_external_and_hallucinated():
    files, names = {"app/server.py", "app/store.py"}, {"make_server", "MemoStore", "load_all"}
    text = ("Change `make_server()` in app/server.py and `MemoStore.load_all()` in store.py. Add a new "
            "`app/users.py` with `hash_password()`, using `hashlib.scrypt()`.")
    assert cited_paths(text) == ["app/server.py", "store.py", "app/users.py"]
    assert (None, "make_server") in cited_functions(text) and ("hashlib", "scrypt") in cited_functions(text)
    ok, reason, detail = check_citations(text, files, names, "", min_citations=3)
    assert ok, (reason, detail)
    ok, reason, _ = check_citations("Fix `parse_token()` in app/auth.py.", files, names, "")
    assert not ok and "parse_token" in reason and "app/auth.py" in reason
    assert not check_citations("A generic plan with no references.", files, names, "", min_citations=1)[0]


def test_grounding_of_a_comparison_table():
    docs = {"docs/quickq.md": "QuickQ has priority queues and a dead-letter queue.",
            "docs/streamline.md": "Streamline has a web dashboard."}
    good = "| Feature | QuickQ | Streamline |\n|---|---|---|\n| Priority queues | yes | no |\n| Web dashboard | no | yes |\n"
    assert check_grounding(good, docs)[0]
    invented = good + "| Quantum encryption | yes | yes |\n"
    ok, reason, _ = check_grounding(invented, docs)
    assert not ok and "Quantum encryption" in reason
    misattributed = "| Feature | QuickQ | Streamline |\n|---|---|---|\n| Web dashboard | yes | yes |\n"
    ok, reason, _ = check_grounding(misattributed, docs)
    assert not ok and "Web dashboard / QuickQ" in reason
    assert not check_grounding("no table here", docs)[0]
