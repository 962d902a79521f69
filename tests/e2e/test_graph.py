"""The graph end to end against a real llama-server and a real GGUF (SmolLM2-135M from PyPI). Nothing mocked."""

import json

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.cli.staleness import stale_status
from beyond_vibes_assets.runner.response_store import ResponseStore
from resources.warehouse import WarehouseResource
from tests.conftest import CAPITAL_ITEMS, LIGHT_PROBE, MATH_ITEMS, VARIANT, latest_data_version, latest_materialization

pytestmark = pytest.mark.e2e
# every probe figure (llama-bench and perplexity included), at a size a test can afford
PROBE = {"ops": {"engine_probe": {"config": {**LIGHT_PROBE["ops"]["engine_probe"]["config"], "llama_bench": True,
                                             "perplexity_chunks": 2}}}}


def mk(variant, task):
    return dg.MultiPartitionKey({"variant": variant, "task": task})


def check_result(instance, asset, check):
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(asset), check)])[dg.AssetCheckKey(dg.AssetKey(asset), check)]
    return record.event.dagster_event.event_specific_data


def test_whole_graph_resume_and_freshness(smol_env):
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric", "max_tokens": 24}),
                          "capitals": (CAPITAL_ITEMS, {"verifier": "exact", "max_tokens": 16})})
    inst = env.instance
    assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=PROBE, instance=inst)
    for pack in ("math", "capitals"):
        assert materialize(["pack_definition"], pack, instance=inst)
        assert materialize(["pack_results"], mk(VARIANT, pack), instance=inst)
    assert materialize(["curated_dataset", "report"], instance=inst)

    report = (env.home / "reports" / "report.md").read_text()
    assert f"`{VARIANT}`" in report and "/4" in report and "/2" in report
    probe = latest_materialization(inst, "engine_probe", VARIANT).metadata
    assert probe["server_predicted_tps"].value > 0 and probe["perplexity"].value > 1
    assert probe["bench_tg32_tps"].value > 0 and probe["load_time_s"].value > 0
    wh = WarehouseResource()
    rows = wh.query("SELECT task, sample_id, failure_mode, ttft_s, decode_tps, server_predicted_tps, model_sha256 FROM samples")
    assert len(rows) == 6 and all(r["failure_mode"] is None and r["ttft_s"] > 0 for r in rows)
    (run,) = wh.query("SELECT * FROM runs WHERE task = 'math'")
    assert run["harness_commit"] and run["model_sha256"] == rows[0]["model_sha256"] and run["engine_build"]
    assert json.loads(run["sampling_params"])["temperature"] == 0.0 and run["canonical"]

    # a second materialization: zero requests, no duplicate rows
    lines_before = len(ResponseStore.for_partition(VARIANT, "math").records())
    assert materialize(["pack_results"], mk(VARIANT, "math"), instance=inst)
    meta = latest_materialization(inst, "pack_results", mk(VARIANT, "math")).metadata
    assert meta["sent"].value == 0 and meta["cached"].value == 4
    assert len(ResponseStore.for_partition(VARIANT, "math").records()) == lines_before
    assert wh.query("SELECT count(*) AS n FROM samples WHERE task = 'math'") == [{"n": 4}]

    # an override run is recorded beside the canonical one, tagged, and kept out of the leaderboard
    hot = {"ops": {"pack_results": {"config": {"temperature": 0.9, "seed": 5}}}}
    assert materialize(["pack_results"], mk(VARIANT, "math"), run_config=hot, instance=inst)
    meta = latest_materialization(inst, "pack_results", mk(VARIANT, "math"))
    assert meta.tags["beyond_vibes/canonical"] == "false" and meta.metadata["sent"].value == 4
    assert wh.query("SELECT canonical, count(*) AS n FROM samples WHERE task = 'math' GROUP BY ALL ORDER BY 1") == [
        {"canonical": False, "n": 4}, {"canonical": True, "n": 4}]
    assert wh.query("SELECT n FROM leaderboard") == [{"n": 6}]

    # an unchanged weights file keeps downstream fresh; a second probe checks determinism against the first
    before = latest_data_version(inst, "model_weights", VARIANT)
    assert materialize(["model_weights"], VARIANT, instance=inst)
    assert latest_data_version(inst, "model_weights", VARIANT) == before
    assert stale_status(inst, "engine_probe", VARIANT) == "FRESH"
    assert materialize(["engine_probe"], VARIANT, run_config=LIGHT_PROBE, instance=inst)  # determinism: any size
    determinism = check_result(inst, "engine_probe", "deterministic")
    assert determinism.passed and "matches previous probe" in determinism.metadata["detail"].value


def test_verifier_change_rescores_only_its_pack_without_model_calls(smol_env, monkeypatch):
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric", "max_tokens": 24}),
                          "capitals": (CAPITAL_ITEMS, {"verifier": "exact", "max_tokens": 16})}, prepared=True)
    inst = env.instance
    for pack in ("math", "capitals"):
        assert materialize(["pack_definition"], pack, instance=inst)
        assert materialize(["pack_results"], mk(VARIANT, pack), instance=inst)
    versions = {p: latest_data_version(inst, "pack_definition", p) for p in ("math", "capitals")}

    from beyond_vibes_assets.scoring import registry as V

    def numeric_always_passes(response, spec):  # a changed verifier (different source, different code version)
        return V.Verdict(True, 1.0, "", {"v2": True})

    monkeypatch.setitem(V.VERIFIERS, "numeric", numeric_always_passes)
    for pack in ("math", "capitals"):
        assert materialize(["pack_definition"], pack, instance=inst)
    after = {p: latest_data_version(inst, "pack_definition", p) for p in ("math", "capitals")}
    assert after["math"] != versions["math"] and after["capitals"] == versions["capitals"]
    assert stale_status(inst, "pack_results", mk(VARIANT, "math")) == "STALE"
    assert stale_status(inst, "pack_results", mk(VARIANT, "capitals")) == "FRESH"

    assert materialize(["pack_results"], mk(VARIANT, "math"), instance=inst)
    meta = latest_materialization(inst, "pack_results", mk(VARIANT, "math")).metadata
    assert meta["sent"].value == 0 and meta["pass_rate"].value == 1.0
    details = WarehouseResource().query("SELECT verdict_detail FROM samples WHERE task = 'math'")
    assert all(json.loads(d["verdict_detail"]) == {"v2": True} for d in details)
