"""lm-evaluation-harness against a real llama-server through the graph: the shipped offline task, our cache
(a second materialization sends nothing), per-document rows, lm-eval's metric with stderr, history."""

import json

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.runner.response_store import ResponseStore
from resources.warehouse import WarehouseResource
from tests.conftest import MATH_ITEMS, VARIANT, latest_metadata

pytestmark = pytest.mark.e2e
LMEVAL = "lm_eval:\n  tasks:\n    - name: bv_arith\n      limit: 8\n"


def meta(instance, partition):
    return latest_metadata(instance, "lm_eval_results", partition)


def test_offline_lmeval_task_runs_caches_and_lands_in_the_warehouse(smol_env):
    env = smol_env(extra=LMEVAL, packs={"math": (MATH_ITEMS[:1], {"verifier": "numeric", "max_tokens": 16})},
                   prepared=True)
    inst = env.instance
    assert inst.get_dynamic_partitions("lmeval") == ["bv_arith"]
    key = dg.MultiPartitionKey({"variant": VARIANT, "lmeval": "bv_arith"})
    assert materialize(["lm_eval_results"], key, instance=inst)
    first = meta(inst, key)
    assert first["sent"].value == 8 and first["documents"].value == 8 and first["metric"].value.startswith("exact_match")
    assert 0.0 <= first["value"].value <= 1.0 and first["stderr"].value is not None
    wh = WarehouseResource()
    rows = wh.query("SELECT * FROM lmeval_samples ORDER BY doc_id")
    assert [r["doc_id"] for r in rows] == list(range(8))
    assert all(r["prompt_text"] and r["target"] and r["latency_s"] > 0 and r["model_sha256"] for r in rows)
    assert json.loads(rows[0]["prompt_text"])["messages"][-1]["role"] == "user"  # the chat template path
    (score,) = wh.query("SELECT * FROM lmeval_scores")
    assert score["value"] == pytest.approx(sum(r["value"] for r in rows) / 8) and score["lm_eval_version"] == "0.4.13"
    # a second materialization: nothing sent, no engine needed, same figures; the same answers scored again are
    # not a new measurement, so no second history point
    assert materialize(["lm_eval_results"], key, instance=inst)
    again = meta(inst, key)
    assert again["sent"].value == 0 and again["cached"].value == 8 and again["value"].value == first["value"].value
    assert wh.query("SELECT count(*) AS n FROM score_history WHERE kind = 'lmeval'") == [{"n": 1}]
    assert len(ResponseStore.for_partition(VARIANT, "lmeval.bv_arith").records()) == 8


def test_a_killed_lmeval_run_resumes_without_duplicates(smol_env):
    """SIGKILL of the CLI mid-task, then the same command: every document answered exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    slow = LMEVAL + "      gen_kwargs: {max_gen_toks: 120, until: ['ZZZZ']}\n"  # long answers: the kill lands mid-run
    smol_env(extra=slow, prepared=True)
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get() as inst:
        from beyond_vibes_assets.catalog.resource import CatalogResource
        from beyond_vibes_assets.orchestration.sync import sync_instance

        sync_instance(inst, CatalogResource())
    cmd = [sys.executable, "-m", "beyond_vibes_assets.cli.main", "lmeval", "run", "--variant", VARIANT]
    proc = subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = ResponseStore.for_partition(VARIANT, "lmeval.bv_arith")
    deadline = time.monotonic() + 300
    while len(store.records()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(store.records())
    assert 2 <= kept < 8, "the kill must land mid-run"
    assert subprocess.run(cmd, env=dict(os.environ), capture_output=True, timeout=600).returncode == 0
    keys = [r["cache_key"] for r in store.records() if r.get("failure_mode") is None]
    assert len(keys) == len(set(keys)) == 8
    assert WarehouseResource().query("SELECT count(DISTINCT doc_id) AS d, count(*) AS n FROM lmeval_samples") == [
        {"d": 8, "n": 8}]
