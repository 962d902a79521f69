"""Retired packs, variants and items leave the headline but stay in the warehouse; a pack only some variants have
makes the others incomplete, not ranked (like with like). In memory against a scripted endpoint (tests/scripted.py:
no model runs here): replaces tests/e2e/test_retired.py, whose subject is counting, not the engine."""

import shutil

import dagster as dg

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.orchestration.sync import sync_instance
from beyond_vibes_assets.runner.response_store import ResponseStore
from resources.warehouse import WarehouseResource
from tests.conftest import CAPITAL_ITEMS, MATH_ITEMS, make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

A, B = "a~api~openai_compatible", "b~api~openai_compatible"
ANSWERS = {"2 + 2": "4", "12 * 7": "84", "10 - 3": "7", "9 / 3": "3", "France": "Paris", "Japan": "Tokyo"}


def answer(body):
    text = last_user(body)
    right = next((v for k, v in ANSWERS.items() if k in text), "?")
    return right if body.get("model") == "a" or "2 + 2" in text else "0"


def mk(variant, task):
    return dg.MultiPartitionKey({"variant": variant, "task": task})


def headline(wh):
    return {r["variant"]: (r["pass_rate"], r["n"], r["n_passed"], r["ranking"])
            for r in wh.query("SELECT variant, pass_rate, n, n_passed, ranking FROM leaderboard")}


def test_retired_pack_variant_and_item_stop_counting_but_stay(home, tmp_path, monkeypatch):
    endpoint = ScriptedEndpoint(answer)
    config, packs = tmp_path / "models.yaml", tmp_path / "packs"
    config.write_text(api_models(endpoint.url, ["a", "b"]))
    make_pack(packs, "math", MATH_ITEMS, verifier="numeric", max_tokens=24)
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(packs))
    inst, wh = dg.DagsterInstance.ephemeral(), WarehouseResource()
    sync_instance(inst, CatalogResource())
    with endpoint.running():
        for variant in (A, B):
            assert materialize(["pack_results"], mk(variant, "math"), instance=inst)
        assert materialize(["curated_dataset", "report"], instance=inst)
        before = headline(wh)
        assert before[A] == (1.0, 4, 4, 1) and before[B] == (0.25, 4, 1, 2)

        # a pack added and run on A only: B is incomplete (shown, not ranked); removed again, all is as it was
        make_pack(packs, "peerqa", CAPITAL_ITEMS, verifier="exact", max_tokens=16)
        sync_instance(inst, CatalogResource())
        assert materialize(["pack_definition"], "peerqa", instance=inst)
        assert materialize(["pack_results"], mk(A, "peerqa"), instance=inst)
        assert materialize(["report"], instance=inst)
        now = headline(wh)
        assert now[A][1] == 6 and now[A][3] == 1 and now[B][3] is None  # like with like: B lacks peerqa
        report = (home / "reports" / "report.md").read_text()
        assert "1 variant(s) lack some of them" in report
        shutil.rmtree(packs / "peerqa")
        sync_instance(inst, CatalogResource())
        assert materialize(["curated_dataset", "report"], instance=inst)
    assert headline(wh) == before
    report = (home / "reports" / "report.md").read_text()
    retired = report.split("## Retired")[1].split("##")[0]
    assert "| pack | `peerqa` |" in retired and f"`{A}`" in retired
    assert "peerqa" not in report.split("## Leaderboard")[1].split("##")[0]
    assert wh.query("SELECT count(*) AS n FROM samples WHERE task = 'peerqa'") == [{"n": 2}]
    import pandas as pd

    snap = pd.read_parquet(home / "warehouse" / "snapshot" / "leaderboard.parquet")
    assert snap["n"].dtype.kind == "i" and sorted(snap["variant"]) == sorted(before)

    # a variant removed from models.yaml: out of the headline, into the retired section
    config.write_text(api_models(endpoint.url, ["a"]))
    sync_instance(inst, CatalogResource())
    assert materialize(["report"], instance=inst)
    assert headline(wh) == {A: before[A]}
    report = (home / "reports" / "report.md").read_text()
    assert f"| variant | `{B}` |" in report.split("## Retired")[1]

    # one item edited out of a pack: n drops by one, the stored answer remains
    make_pack(packs, "math", MATH_ITEMS[1:], verifier="numeric", max_tokens=24)
    assert materialize(["report"], instance=inst)
    assert headline(wh)[A][1] == 3
    assert any(r["sample_id"] == MATH_ITEMS[0]["id"] for r in ResponseStore.for_partition(A, "math").records())
