"""The catalog sensor (in-process, real instance) and the pure helpers behind inspect and the probe check."""

import dagster as dg

from beyond_vibes_assets.assets.engine_probe import determinism_verdict
from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.inspect_runs import diff_rows
from beyond_vibes_assets.orchestration.sensors import catalog_sync_sensor
from tests.conftest import REPO


def test_sensor_adds_new_and_removes_gone_partitions(home, write_config):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("variant", ["retired~Q4_0~cpu"])
    catalog = CatalogResource(config=str(REPO / "models.yaml"), packs=str(REPO / "packs"))
    result = catalog_sync_sensor(dg.build_sensor_context(instance=instance, resources={"catalog": catalog}))
    requests = {(type(r).__name__, r.partitions_def_name): set(r.partition_keys) for r in result.dynamic_partitions_requests}
    assert "smollm2-135m~Q4_1~cpu" in requests[("AddDynamicPartitionsRequest", "variant")]
    assert requests[("DeleteDynamicPartitionsRequest", "variant")] == {"retired~Q4_0~cpu"}
    assert "toolcall" in requests[("AddDynamicPartitionsRequest", "task")]
    broken = CatalogResource(config=str(write_config("models: [")), packs=str(REPO / "packs"))
    skip = catalog_sync_sensor(dg.build_sensor_context(instance=instance, resources={"catalog": broken}))
    assert isinstance(skip, dg.SkipReason) and "invalid" in skip.skip_message


def test_diff_rows_classifies_changes():
    a = {("m", "1"): {"passed": True, "failure_mode": None, "verdict_reason": ""},
         ("m", "2"): {"passed": False, "failure_mode": None, "verdict_reason": "expected 84"},
         ("m", "3"): {"passed": True, "failure_mode": None, "verdict_reason": ""},
         ("m", "5"): {"passed": True, "failure_mode": None, "verdict_reason": ""}}
    b = {("m", "1"): {"passed": False, "failure_mode": "timeout", "verdict_reason": "not scored: timeout"},
         ("m", "2"): {"passed": True, "failure_mode": None, "verdict_reason": ""},
         ("m", "4"): {"passed": True, "failure_mode": None, "verdict_reason": ""},
         ("m", "5"): {"passed": False, "failure_mode": "endpoint_unreachable", "verdict_reason": "not scored"}}
    changes = {c["sample_id"]: c["change"] for c in diff_rows(a, b)}
    # a timeout on an unloaded machine is the model's (a regression); a dead endpoint is the machine's
    assert changes == {"1": "regressed", "2": "fixed", "3": "only in A", "4": "only in B", "5": "lost to the machine in B"}


def test_determinism_verdict_compares_only_like_with_like():
    prev = {"model_sha256": "s", "engine_build": "b", "determinism_hash": "h1"}  # the previous probes row
    assert determinism_verdict(None, "h1", "s", "b")[0]
    assert determinism_verdict(prev, "h1", "s", "b") == (True, "matches previous probe (h1)")
    assert determinism_verdict(prev, "h2", "s", "b")[0] is False
    assert determinism_verdict(prev, "h2", "other-file", "b")[0]  # a new file is a new baseline
