"""Retired packs and variants leave the headline but stay in history (real llama-server, real graph)."""

import shutil

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.orchestration.sync import sync_instance
from beyond_vibes_assets.runner.response_store import ResponseStore
from resources.warehouse import WarehouseResource
from tests.conftest import CAPITAL_ITEMS, LIGHT_PROBE, MATH_ITEMS, SMOL_CONFIG, make_pack

pytestmark = pytest.mark.e2e
Q4, Q2 = "smol~Q4_1~cpu", "smol~Q2_K~cpu"


def mk(variant, task):
    return dg.MultiPartitionKey({"variant": variant, "task": task})


def headline(wh):
    return {r["variant"]: (r["pass_rate"], r["n"], r["n_passed"])
            for r in wh.query("SELECT variant, pass_rate, n, n_passed FROM leaderboard")}


def test_retired_pack_variant_and_item_stop_counting_but_stay(smol_env):
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric", "max_tokens": 24})})
    inst, wh = env.instance, WarehouseResource()
    for variant in (Q4, Q2):
        assert materialize(["engine_build", "model_weights", "engine_probe"], variant, run_config=LIGHT_PROBE, instance=inst)
        assert materialize(["pack_results"], mk(variant, "math"), instance=inst)
    assert materialize(["curated_dataset", "report"], instance=inst)
    before = headline(wh)
    assert set(before) == {Q4, Q2} and all(n == 4 and isinstance(n, int) for _, n, _ in before.values())

    # a pack added, run, then removed: the headline returns to what it was; the pack is listed as retired
    make_pack(env.packs, "peerqa", CAPITAL_ITEMS, verifier="exact", max_tokens=16)
    sync_instance(inst, CatalogResource())
    assert materialize(["pack_definition"], "peerqa", instance=inst)
    assert materialize(["pack_results"], mk(Q4, "peerqa"), instance=inst)
    assert materialize(["report"], instance=inst)
    assert headline(wh)[Q4][1] == 6
    shutil.rmtree(env.packs / "peerqa")
    sync_instance(inst, CatalogResource())
    assert materialize(["curated_dataset", "report"], instance=inst)
    assert headline(wh) == before
    report = (env.home / "reports" / "report.md").read_text()
    retired = report.split("## Retired")[1].split("##")[0]
    assert "| pack | `peerqa` |" in retired and f"`{Q4}`" in retired
    assert "peerqa" not in report.split("## Leaderboard")[1].split("##")[0]
    assert wh.query("SELECT count(*) AS n FROM samples WHERE task = 'peerqa'") == [{"n": 2}]
    import pandas as pd

    snap = pd.read_parquet(env.home / "warehouse" / "snapshot" / "leaderboard.parquet")
    assert snap["n"].dtype.kind == "i" and sorted(snap["variant"]) == sorted(before)

    # a variant removed from models.yaml: out of the headline, into the retired section
    env.config.write_text(SMOL_CONFIG.format(extra="").replace("[Q4_1, Q2_K]", "[Q4_1]").replace(
        "derive: { Q2_K: Q4_1 }", "derive: {}"))
    sync_instance(inst, CatalogResource())
    assert materialize(["report"], instance=inst)
    assert headline(wh) == {Q4: before[Q4]}
    report = (env.home / "reports" / "report.md").read_text()
    assert f"| variant | `{Q2}` |" in report.split("## Retired")[1]

    # one item edited out of a pack: n drops by one, the stored answer remains
    make_pack(env.packs, "math", MATH_ITEMS[1:], verifier="numeric", max_tokens=24)
    assert materialize(["report"], instance=inst)
    assert headline(wh)[Q4][1] == 3
    assert materialize(["pack_results"], mk(Q4, "math"), instance=inst)
    assert headline(wh)[Q4][1] == 3
    assert any(r["sample_id"] == MATH_ITEMS[0]["id"] for r in ResponseStore.for_partition(Q4, "math").records())
