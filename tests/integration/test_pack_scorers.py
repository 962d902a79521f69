"""A pack's own Python scorer (`verifier: python`), run in the real sandbox: it scores replies, an edit to it
re-scores the stored replies with zero model calls (counted on a scripted endpoint), a broken one is a `validate`
problem with the file and line, and it can reach neither the network nor the home folder."""

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import main
from beyond_vibes_assets.orchestration.sync import sync_instance
from beyond_vibes_assets.scoring import registry as V
from resources.warehouse import WarehouseResource
from tests.conftest import make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

pytestmark = pytest.mark.integration
SCORER = '''
def score(reply, item):
    """Passes when the reply names the capital, in any case."""
    ok = item["args"]["capital"].lower() in reply.lower()
    return {"passed": ok, "score": 1.0 if ok else 0.0, "reason": "" if ok else "capital not named"}
'''
ITEMS = [{"id": c, "prompt": f"What is the capital of {c}?", "check": {"file": "verify.py", "args": {"capital": cap}}}
         for c, cap in (("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"))]


def scorer_pack(root, source=SCORER, items=ITEMS):
    folder = make_pack(root, "capitals", items, verifier="python")
    (folder / "verify.py").write_text(source)
    return folder


def test_a_pack_scorer_scores_rescoring_after_an_edit_sends_nothing(home, tmp_path, monkeypatch, capsys):
    endpoint = ScriptedEndpoint(lambda body: "It is paris." if "France" in last_user(body) else "No idea.")
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["m"]))
    folder = scorer_pack(tmp_path / "packs")
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    sync_instance(dg.DagsterInstance.ephemeral(), CatalogResource())
    argv = ["packs", "run", "--variant", "m~api~openai_compatible", "--pack", "capitals"]
    wh = WarehouseResource()
    with endpoint.running():
        assert main(argv) == 0
        sent = endpoint.count()
        assert sent == 3
        rows = {r["sample_id"]: r for r in wh.query("SELECT sample_id, passed, verdict_reason FROM samples")}
        assert rows["France"]["passed"] and not rows["Italy"]["passed"]
        assert rows["Italy"]["verdict_reason"] == "capital not named"
        # the scorer changes its mind (anything mentioning 'idea' passes): re-scored, no model call
        (folder / "verify.py").write_text(SCORER.replace('ok = item["args"]["capital"].lower() in reply.lower()',
                                                         'ok = "idea" in reply or item["args"]["capital"].lower() in reply.lower()'))
        assert main(argv) == 0
        assert endpoint.count() == sent
    rows = {r["sample_id"]: r["passed"] for r in wh.query("SELECT sample_id, passed FROM samples")}
    assert rows == {"France": True, "Italy": True, "Spain": True}


def test_a_broken_scorer_is_a_load_problem_with_file_and_line(tmp_path):
    scorer_pack(tmp_path, "def score(reply, item):\n    return (\n")
    with pytest.raises(ConfigError) as err:
        load_pack(tmp_path / "capitals")
    text = str(err.value)
    assert "verify.py" in text and "line " in text and "syntax error" in text
    scorer_pack(tmp_path, "def grade(reply, item):\n    return True\n")
    with pytest.raises(ConfigError, match="no top-level function 'score'"):
        load_pack(tmp_path / "capitals")


def test_the_scorer_runs_sandboxed_and_its_errors_are_the_harness_s(home, tmp_path):
    nosy = '''
import os, socket, pathlib
def score(reply, item):
    seen = pathlib.Path(item["args"]["home"]).exists() or "BEYOND_VIBES_HOME" in os.environ
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        net = True
    except OSError:
        net = False
    return {"passed": not seen and not net, "reason": f"home seen={seen} network={net}"}
'''
    items = [{"id": "nosy", "prompt": "p", "check": {"file": "verify.py", "args": {"home": str(home)}}}]
    home.mkdir(parents=True, exist_ok=True)  # the platform home, with its warehouse and secrets-bearing logs
    item = load_pack(scorer_pack(tmp_path, nosy, items)).items[0]
    verdict = V.verify(item.verifier, V.Response("x"), item.check)
    assert verdict.passed, verdict.reason  # neither the home nor the network is there
    crash = load_pack(scorer_pack(tmp_path, "def score(reply, item):\n    return 1 / 0\n")).items[0]
    verdict = V.verify(crash.verifier, V.Response("x"), crash.check)
    assert not verdict.passed and verdict.detail.get("verifier_error") and "verify.py:2" in verdict.reason
