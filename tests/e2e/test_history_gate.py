"""History, the sigma rule, baselines and gate, slowed-run flags, and the report in a real browser.

Real llama-server and GGUF; the report is opened in real headless Chromium."""

import re

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import main, materialize
from resources.warehouse import WarehouseResource
from tests.browser import inspect_report
from tests.conftest import LIGHT_PROBE, busy_loops, kill_all, make_pack

pytestmark = pytest.mark.e2e
VARIANT = "smol~Q4_1~cpu"
ECHO = [{"id": f"e{i}", "prompt": f"Write the word apple, then the number {i}.", "check": {"pattern": r"\S"}}
        for i in range(10)]


def mk(task):
    return dg.MultiPartitionKey({"variant": VARIANT, "task": task})


def check(instance, name):
    key = dg.AssetCheckKey(dg.AssetKey("pack_results"), name)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.event.dagster_event.event_specific_data


def test_history_sigma_rule_gate_and_report_in_a_browser(smol_env, capsys):
    env = smol_env(packs={"echo": (ECHO, {"verifier": "regex", "max_tokens": 12})})
    inst, wh = env.instance, WarehouseResource()
    assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE, instance=inst)
    assert materialize(["pack_definition"], "echo", instance=inst)
    for _ in range(3):
        assert materialize(["pack_results"], mk("echo"), instance=inst)
    rows = wh.query("SELECT rate, n, run_id, harness_commit, model_sha256, engine_build, task_fingerprint FROM score_history")
    assert len(rows) == 3 and len({r["run_id"] for r in rows}) == 3 and len({r["rate"] for r in rows}) == 1
    assert all(r["harness_commit"] and r["model_sha256"] and r["engine_build"] and r["task_fingerprint"] for r in rows)
    assert rows[0]["rate"] > 0.5
    assert main(["baseline", "save", "main"]) == 0

    # an unchanged re-run: a fourth history row, the check passes, gate exits 0
    assert materialize(["pack_results"], mk("echo"), instance=inst)
    assert wh.query("SELECT count(*) AS n FROM score_history") == [{"n": 4}]
    assert check(inst, "no_regression").passed
    capsys.readouterr()
    assert main(["gate", "--baseline", "main"]) == 0
    assert "gate passed" in capsys.readouterr().out

    # a stricter verifier (no reply matches now): rescored from stored answers, flagged by both rules
    make_pack(env.packs, "echo", [{**i, "check": {"pattern": "^NEVER-MATCHES$"}} for i in ECHO], verifier="regex",
              max_tokens=12)
    assert materialize(["pack_definition"], "echo", instance=inst)
    assert materialize(["pack_results"], mk("echo"), instance=inst)
    regression = check(inst, "no_regression")
    assert not regression.passed and regression.metadata["regressions"].value[0]["variant"] == VARIANT
    assert main(["gate", "--baseline", "main"]) == 1
    out = capsys.readouterr().out
    assert "sigma" in out and "pass rate down" in out and VARIANT in out

    # the report: history with the regression marked, every plot rendered in Chromium, a screenshot kept
    assert materialize(["curated_dataset", "report"], instance=inst)
    report = (env.home / "reports" / "report.md").read_text()
    assert "REGRESSION" in report.split("## History and regressions")[1]
    html = (env.home / "reports" / "report.html").read_text()
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # self-contained
    result = inspect_report(env.home / "reports" / "report.html", env.home, env.home / "reports" / "report.png")
    ids = {p["id"] for p in result["plots"]}
    assert {"plot-frontier", "plot-pack-rates", "plot-latency", "plot-history"} <= ids
    assert all(p["width"] > 200 and p["height"] > 100 and p["drawn"] > 10 for p in result["plots"]), result["plots"]
    assert not [c for c in result["console"] if "error" in c.lower()], result["console"]




def test_a_run_under_cpu_contention_is_flagged_in_the_check_and_the_report(smol_env):
    env = smol_env(packs={"echo": (ECHO[:2], {"verifier": "regex", "max_tokens": 12})})
    inst, wh = env.instance, WarehouseResource()
    assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE, instance=inst)
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
