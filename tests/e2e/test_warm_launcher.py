"""The local instance's run launcher (deploy/dagster.yaml): run workers forked from a warm pool, as the UI uses it.

Real dagster-daemon and dagster-webserver processes on the default SQLite instance, a real llama-server and GGUF;
runs launched and terminated through the webserver's GraphQL API the way the UI's buttons do."""

import os
import re
import time
from pathlib import Path

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import main, materialize
from beyond_vibes_assets.orchestration.warm_launcher import PID_TAG, code_fingerprint, is_pool_worker
from beyond_vibes_assets.settings import ensure_dagster_home
from resources.warehouse import WarehouseResource
from tests.conftest import LIGHT_PROBE, MATH_ITEMS, REPO, SMOL_CONFIG, VARIANT, make_pack
from tests.servers import DagsterServices

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ESSAYS = [{"id": f"e{i}", "prompt": f"Write a long story about the number {i}.", "check": {"pattern": r"\S"}}
          for i in range(16)]  # long enough to be generating when it is terminated


def worker_events(instance, run_id: str) -> tuple[int | None, int | None, str | None]:
    """(pid the launcher forked, pid the run worker reported, the pool's code fingerprint) from the run's events."""
    forked = started = code = None
    for entry in instance.all_logs(run_id):
        message = (entry.dagster_event.message if entry.dagster_event else None) or entry.user_message or ""
        if m := re.search(r"forked from the warm pool \(pid (\d+), code (\w+)\)", message):
            forked, code = int(m.group(1)), m.group(2)
        elif m := re.search(r"Started process for run \(pid: (\d+)\)", message):
            started = int(m.group(1))
    return forked, started, code


def test_runs_fork_from_a_warm_pool_restart_it_when_code_changes_and_terminate_cleanly(
        home, tmp_path, monkeypatch, engine_build_info):
    config = tmp_path / "models.yaml"
    config.write_text(SMOL_CONFIG.format(extra=""))
    make_pack(tmp_path / "packs", "math", MATH_ITEMS, verifier="numeric", max_tokens=16)
    make_pack(tmp_path / "packs", "essays", ESSAYS, verifier="regex", max_tokens=1000)
    env = {"BEYOND_VIBES_CONFIG": str(config), "BEYOND_VIBES_PACKS": str(tmp_path / "packs"),
           "BEYOND_VIBES_WARM_LAUNCHER": "1"}  # opt-in since it measured no gain at 1,000 partitions
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    ensure_dagster_home()  # the CLI's instance: deploy/dagster.yaml + the warm launcher, as a first run seeds it
    assert "WarmRunLauncher" in (Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml").read_text()
    assert main(["sync"]) == 0
    with dg.DagsterInstance.get() as instance:
        assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE,
                           instance=instance)
        assert materialize(["pack_definition"], "math", instance=instance)
        assert materialize(["pack_definition"], "essays", instance=instance)

    services = DagsterServices({**os.environ, **env}, tmp_path)
    source = REPO / "beyond_vibes_assets" / "__init__.py"
    stat = source.stat()
    try:
        services.wait_ready()
        services.stop_sensors()
        dims = {"task": "math", "variant": VARIANT}
        first = services.launch_run("pack_results", f"math|{VARIANT}", dims)
        assert services.wait_run(first) == "SUCCESS"

        # an edited source file: the next run must not run the old code, so it comes from a new pool
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert code_fingerprint() != worker_events(dg.DagsterInstance.get(), first)[2]
        slow = services.launch_run("pack_results", f"essays|{VARIANT}", {"task": "essays", "variant": VARIANT})
        services.wait_run(slow, done=("STARTED",))
        serve_log = home / "logs" / VARIANT / "pack_results.log"
        deadline = time.monotonic() + 120
        while True:  # forked (its pid tagged) and generating: its own server's log section shows a busy slot
            with dg.DagsterInstance.get() as instance:
                tags = instance.get_run_by_id(slow).tags
                fallback = [e.dagster_event.message for e in instance.all_logs(slow) if e.dagster_event
                            and "warm pool failed" in (e.dagster_event.message or "")]
            assert not fallback, f"the run was not forked from the warm pool: {fallback}"
            sections = re.split(r"^# \S+ ", serve_log.read_text(errors="replace"), flags=re.M) if serve_log.exists() else []
            if PID_TAG in tags and len(sections) >= 3 and "slot" in sections[-1]:  # the math run's server, then this
                break
            assert time.monotonic() < deadline, f"the slow run never started generating (tags: {sorted(tags)})"
            time.sleep(0.5)
        pid = int(tags[PID_TAG])
        assert is_pool_worker(pid)
        assert services.terminate_run(slow) == "TerminateRunSuccess"
        assert services.wait_run(slow, timeout_s=60) == "CANCELED"
        deadline = time.monotonic() + 30
        while is_pool_worker(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not is_pool_worker(pid), "the terminated run worker is still running"
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        services.close()

    with dg.DagsterInstance.get() as instance:
        forked, started, code_a = worker_events(instance, first)
        assert forked and forked == started and forked not in (os.getpid(), *(p.pid for p in services.procs))
        assert instance.get_run_by_id(first).tags[PID_TAG] == str(forked)
        forked_b, started_b, code_b = worker_events(instance, slow)
        assert forked_b == started_b == pid and code_b != code_a  # a new pool for the edited code
    # the first run's work is in the warehouse; the terminated one left no llama-server behind
    assert WarehouseResource().query("SELECT count(*) AS n FROM samples WHERE task = 'math'") == [{"n": len(MATH_ITEMS)}]
    lines = serve_log.read_text(errors="replace").splitlines()
    starts, stops = (sum(1 for line in lines if re.match(p, line)) for p in (r"^# \S+ ", r"^## \S+ stopped"))
    assert starts == stops == 2, "a llama-server of the terminated run was left running"
