"""Many partitions in one run (the single-run backfill path) against the real llama-server: each variant is
resolved and served once for all its packs, each partition is materialized on its own, and a broken
partition fails alone."""

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.cli.staleness import partition_range, stale_status
from tests.conftest import CAPITAL_ITEMS, MATH_ITEMS, VARIANT

pytestmark = pytest.mark.e2e


def counting(monkeypatch, module, name, counts):
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def test_one_run_resolves_and_serves_each_variant_once_and_a_broken_pack_fails_alone(smol_env, monkeypatch):
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric", "max_tokens": 24}),
                          "capitals": (CAPITAL_ITEMS, {"verifier": "exact", "max_tokens": 16}),
                          "zbroken": ([{"id": "a", "prompt": "p", "check": {"answer": "not a number"}}], {"verifier": "numeric"})},
                   prepared=True)
    inst = env.instance
    keys = [dg.MultiPartitionKey({"variant": VARIANT, "task": t}) for t in ("capitals", "math", "zbroken")]
    tags, covered = partition_range(inst, "pack_results", keys)
    assert covered == 3

    from beyond_vibes_assets import resolve
    from beyond_vibes_assets.catalog import resource as catalog_module
    from resources.llama_server import LlamaServerResource

    counts: dict[str, int] = {}
    counting(monkeypatch, resolve, "ensure_build", counts)
    counting(monkeypatch, resolve, "load_manifest", counts)
    counting(monkeypatch, catalog_module, "load_catalog", counts)
    counting(monkeypatch, LlamaServerResource, "serve", counts)
    assert materialize(["pack_definition"], None, instance=inst, tags=partition_range(
        inst, "pack_definition", ["capitals", "math", "zbroken"])[0]) is False  # zbroken fails its own partition
    assert stale_status(inst, "pack_definition", "math") == "FRESH"
    assert stale_status(inst, "pack_definition", "zbroken") == "MISSING"
    counts.clear()

    assert materialize(["pack_results"], None, instance=inst, tags=tags) is False  # the run fails: zbroken
    assert counts == {"load_catalog": 1, "ensure_build": 1, "load_manifest": 1, "serve": 1}, counts
    assert stale_status(inst, "pack_results", keys[0]) == "FRESH"
    assert stale_status(inst, "pack_results", keys[1]) == "FRESH"
    assert stale_status(inst, "pack_results", keys[2]) == "MISSING"
    records = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("pack_results")), limit=10).records
    assert sorted(r.partition_key for r in records) == sorted(str(k) for k in keys[:2])
    assert {r.asset_materialization.tags["dagster/code_version"] for r in records} == {"1"}  # provenance is recorded

    # again, only what is answered: no engine, no model call, every partition re-scored in the same one run
    counts.clear()
    only = {"ops": {"pack_results": {"config": {"only": [str(k) for k in keys[:2]]}}}}
    assert materialize(["pack_results"], None, instance=inst, tags=tags, run_config=only)
    assert counts.get("serve", 0) == 0 and counts["load_catalog"] == 1
    latest = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("pack_results"),
                                                               asset_partitions=[str(keys[1])]), limit=1).records[0]
    assert latest.asset_materialization.metadata["sent"].value == 0
    assert latest.asset_materialization.metadata["cached"].value == len(MATH_ITEMS)
