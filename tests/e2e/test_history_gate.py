"""Slowed-run flags from real CPU contention, with a real llama-server and GGUF. (History, the sigma rule, baselines,
the gate and the report in a real browser are tests/unit/test_history_gate.py: they need no engine.)"""

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from resources.warehouse import WarehouseResource
from tests.conftest import VARIANT, busy_loops, kill_all

pytestmark = pytest.mark.e2e
ECHO = [{"id": f"e{i}", "prompt": f"Write the word apple, then the number {i}.", "check": {"pattern": r"\S"}}
        for i in range(10)]


def mk(task):
    return dg.MultiPartitionKey({"variant": VARIANT, "task": task})


def check(instance, name):
    key = dg.AssetCheckKey(dg.AssetKey("pack_results"), name)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.event.dagster_event.event_specific_data


def test_a_run_under_cpu_contention_is_flagged_in_the_check_and_the_report(smol_env):
    env = smol_env(packs={"echo": (ECHO[:2], {"verifier": "regex", "max_tokens": 12})}, prepared=True)
    inst, wh = env.instance, WarehouseResource()
    assert materialize(["pack_definition"], "echo", instance=inst)
    spinners = busy_loops(4)  # 2x the cores of CI, not children of this process: another user's job
    patient = {"ops": {"pack_results": {"config": {"timeout_s": 300}}}}  # slowed, not timed out: speed is measured
    try:
        materialize(["pack_results"], mk("echo"), run_config=patient, instance=inst)
    finally:
        kill_all(spinners)
    (row,) = wh.query("SELECT decode_vs_probe, foreign_cpu_share, slowed FROM score_history")
    assert row["slowed"] and row["foreign_cpu_share"] > 0.3 and row["decode_vs_probe"] < 0.5, row
    steady = check(inst, "steady_speed")
    assert not steady.passed and steady.metadata["slowed"].value[0]["variant"] == VARIANT
    assert materialize(["report"], instance=inst)
    report = (env.home / "reports" / "report.md").read_text()
    assert "⚠ slowed during echo" in report and "⚠ slowed (" in report
