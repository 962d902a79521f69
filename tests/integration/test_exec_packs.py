"""Execution-backed packs in the real sandbox (bubblewrap): references pass, empty replies fail, escapes are
refused and recorded, results are stored so re-scoring executes nothing, a verifier change re-executes only
the items of packs that use it."""

import json

import pytest

from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.scoring import registry as V
from beyond_vibes_assets.scoring import sandboxed
from beyond_vibes_assets.settings import REPO_ROOT

pytestmark = pytest.mark.integration
PACKS = ("code", "bugfix", "shell")


def references(pack):
    lines = (REPO_ROOT / "packs" / pack.name / "references.jsonl").read_text().splitlines()
    return {r["id"]: r["reply"] for r in map(json.loads, lines)}


def verdict(item, text):
    return V.verify(item.verifier, V.Response(text), item.check)


@pytest.mark.parametrize("name", PACKS)
def test_references_pass_every_item_and_an_empty_reply_fails(name, home):
    pack = load_pack(REPO_ROOT / "packs" / name)
    refs = references(pack)
    assert len(pack.items) >= 15 and set(refs) == {i.id for i in pack.items}
    for item in pack.items:
        good = verdict(item, refs[item.id])
        assert good.passed and good.score == 1.0, (item.id, good.reason, good.detail.get("output"))
        empty = verdict(item, "")
        assert not empty.passed and not empty.detail.get("execution_failure"), (item.id, empty.reason)
    if name == "bugfix":
        traps = [i for i in pack.items if i.check.get("trap")]
        assert len(traps) >= 4
        for item in traps:  # a trap "fixed" anyway fails, even when its tests still pass
            changed = verdict(item, "```python\n" + next(iter(sandboxed.read_tree(item.check, item.check["files"]).values()))
                              + "\n# tidied\n```")
            assert not changed.passed and "changed" in changed.reason


def test_escape_attempts_fail_with_the_refusal_recorded(home):
    pack = load_pack(REPO_ROOT / "packs" / "code")
    item = next(i for i in pack.items if i.id == "add")
    sneaky = ("```python\nimport socket, pathlib\n"
              "print(sorted(p.name for p in pathlib.Path('/root').iterdir()))\n"
              "socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
              "def add(a, b):\n    return a + b\n```")
    out = verdict(item, sneaky)
    assert not out.passed and "sandbox refused" in out.reason and "unreachable" in out.reason.lower()
    shell = load_pack(REPO_ROOT / "packs" / "shell")
    item = next(i for i in shell.items if i.id == "create-file")
    out = verdict(item, "```bash\ncat /etc/shadow > hello.txt\n```")
    assert not out.passed and "sandbox refused" in out.reason
    fibonacci = next(i for i in pack.items if i.id == "fibonacci")  # under a 1 s wall clock (the pack's is 10 s)
    forever = V.verify(fibonacci.verifier, V.Response("```python\ndef fibonacci(n):\n    while True:\n        pass\n```"),
                       {**fibonacci.check, "timeout_s": 1})
    assert forever.detail["execution_failure"] == "execution_timeout"  # a failure mode, not a wrong answer


def test_rescoring_executes_nothing_and_a_verifier_change_reexecutes_only_its_items(home, monkeypatch):
    code, shell = load_pack(REPO_ROOT / "packs" / "code"), load_pack(REPO_ROOT / "packs" / "shell")
    refs = {**references(code), **references(shell)}
    items = code.items[:3] + shell.items[:3]
    for item in items:
        verdict(item, refs[item.id])
    before = sandboxed.stats()
    for item in items:
        assert verdict(item, refs[item.id]).passed
    after = sandboxed.stats()
    assert after["executed"] == before["executed"] and after["cached"] == before["cached"] + 6
    real = V.code_version
    monkeypatch.setattr(V, "code_version", lambda name: real(name) + ("-edited" if name == "python_tests" else ""))
    from beyond_vibes_assets.scoring import execution_verifiers as executing

    monkeypatch.setattr(executing, "code_version", V.code_version)
    for item in items:
        assert verdict(item, refs[item.id]).passed
    final = sandboxed.stats()
    assert final["executed"] == after["executed"] + 3 and final["cached"] == after["cached"] + 3


def test_a_code_pack_through_pack_results_executes_once_and_a_rerun_executes_nothing(home, tmp_path, monkeypatch):
    """The code pack materialized as `pack_results` against the scripted endpoint (tests/scripted.py: mocked only
    because no model runs here), executed in the real sandbox: every reply with code runs once, an empty one is
    a wrong answer that runs nothing, and a second materialization sends nothing and executes nothing. Replaces
    tests/e2e/test_exec_pack_graph.py (its answers came from SmolLM2; the execution path is the same)."""
    import shutil

    import dagster as dg

    from beyond_vibes_assets.catalog.resource import CatalogResource
    from beyond_vibes_assets.cli.main import materialize
    from beyond_vibes_assets.orchestration.sync import sync_instance
    from resources.warehouse import WarehouseResource
    from tests.conftest import latest_metadata
    from tests.scripted import ScriptedEndpoint, api_models, last_user

    packs = tmp_path / "packs"
    shutil.copytree(REPO_ROOT / "packs" / "code", packs / "code")
    lines = (packs / "code" / "items.jsonl").read_text().splitlines()[:4]  # four items keep the test short
    (packs / "code" / "items.jsonl").write_text("\n".join(lines) + "\n")
    items = [json.loads(line) for line in lines]
    refs = references(load_pack(REPO_ROOT / "packs" / "code"))
    no_code = items[-1]["id"]
    replies = {i["prompt"]: "" if i["id"] == no_code else refs[i["id"]] for i in items}
    endpoint = ScriptedEndpoint(lambda body: next(r for p, r in replies.items() if p in last_user(body)))
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["good"]))
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(packs))
    instance = dg.DagsterInstance.ephemeral()
    sync_instance(instance, CatalogResource())
    key = dg.MultiPartitionKey({"variant": "good~api~openai_compatible", "task": "code"})
    with endpoint.running():
        assert materialize(["pack_definition"], "code", instance=instance)
        assert materialize(["pack_results"], key, instance=instance)
        rows = {r["sample_id"]: r for r in WarehouseResource().query(
            "SELECT sample_id, verdict_reason, failure_mode, passed FROM samples WHERE task = 'code'")}
        assert len(rows) == 4 and all(r["failure_mode"] is None for r in rows.values())
        assert [i for i, r in rows.items() if not r["passed"]] == [no_code]
        assert rows[no_code]["verdict_reason"] == "no code in the reply"
        first = latest_metadata(instance, "pack_results", key)
        assert first["sent"].value == 4 and first["executions"].value == 3  # the reply without code ran nothing

        assert materialize(["pack_results"], key, instance=instance)
        again = latest_metadata(instance, "pack_results", key)
        assert again["sent"].value == 0 and again["executions"].value == 0 and endpoint.count() == 4
    assert WarehouseResource().query("SELECT count(*) AS n FROM samples WHERE task = 'code'") == [{"n": 4}]
