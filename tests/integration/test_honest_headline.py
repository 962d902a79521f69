"""Issue 21's acceptance case: two API variants on a scripted endpoint, one right on every code item, one whose code
loops forever on most of them. The looping code runs for real in the sandbox and hits its wall clock; that is the
model's failure, so it counts as wrong: the second variant's headline is lower and the paired comparison calls the
difference. (Before the failure owners existed the looper scored 100% over the 4 items it "answered" and the
comparison said "no detectable difference".) The endpoint is scripted because no paid API runs here.
"""

import json
import re

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import main, materialize
from beyond_vibes_assets.cli.staleness import partition_range
from beyond_vibes_assets.orchestration.sync import sync_instance
from resources.warehouse import WarehouseResource
from tests.conftest import make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

pytestmark = pytest.mark.integration
SOLID, LOOPER = "solid~api~openai_compatible", "looper~api~openai_compatible"
ITEMS, LOOPS = 10, 6  # the looper's code never ends on items 0-5 and is right on 6-9


def reply(body):
    i = int(re.search(r"`plus(\d+)\(n\)`", last_user(body)).group(1))
    if body.get("model") == "looper" and i < LOOPS:
        return f"```python\ndef plus{i}(n):\n    while True:\n        pass\n```"
    return f"```python\ndef plus{i}(n):\n    return n + {i}\n```"


def code_pack(root):
    items = [{"id": f"plus{i}", "prompt": f"Write a Python function `plus{i}(n)` that returns n + {i}.",
              "check": {"tests": f"tests/plus{i}.py", "timeout_s": 1}} for i in range(ITEMS)]
    folder = make_pack(root, "code", items, verifier="python_tests")
    (folder / "tests").mkdir()
    for i in range(ITEMS):
        (folder / "tests" / f"plus{i}.py").write_text(
            f"from solution import plus{i}\n\n\ndef test_small():\n    assert plus{i}(1) == {1 + i}\n")


def test_code_that_never_ends_counts_against_its_model_and_the_comparison_calls_it(home, tmp_path, monkeypatch, capsys):
    endpoint = ScriptedEndpoint(reply)
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["solid", "looper"]))
    code_pack(tmp_path / "packs")
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    instance = dg.DagsterInstance.ephemeral()
    sync_instance(instance, CatalogResource())
    keys = [dg.MultiPartitionKey({"variant": v, "task": "code"}) for v in (SOLID, LOOPER)]
    with endpoint.running():
        assert materialize(["pack_definition"], "code", instance=instance)
        tags, _ = partition_range(instance, "pack_results", keys)
        assert materialize(["pack_results"], None, instance=instance, tags=tags)

    wh = WarehouseResource()
    modes = {r["sample_id"]: r["failure_mode"] for r in
             wh.query("SELECT sample_id, failure_mode FROM samples WHERE variant = ?", [LOOPER])}
    assert sorted(s for s, m in modes.items() if m == "execution_timeout") == [f"plus{i}" for i in range(LOOPS)], modes
    board = {r["variant"]: r for r in wh.query("SELECT variant, ranking, pass_rate, answered_rate, n, n_answered, "
                                               "n_model_failed FROM leaderboard")}
    assert board[SOLID]["pass_rate"] == 1.0 and board[LOOPER]["pass_rate"] == pytest.approx((ITEMS - LOOPS) / ITEMS)
    assert board[SOLID]["ranking"] == 1 and board[LOOPER]["ranking"] == 2
    # the rate over answered items is still shown beside the headline, with the model-caused failures counted
    assert board[LOOPER]["answered_rate"] == 1.0 and board[LOOPER]["n_model_failed"] == LOOPS
    assert board[LOOPER]["n"] == ITEMS

    capsys.readouterr()
    assert main(["inspect", "--diff", SOLID, LOOPER, "--json"]) == 0
    paired = json.loads(capsys.readouterr().out)["paired"]
    assert paired["items"] == ITEMS and paired["a_only"] == LOOPS and paired["b_only"] == 0
    assert paired["p_mcnemar"] < 0.05 and "no detectable" not in paired["verdict"], paired
