"""Ctrl-C (SIGINT) and SIGTERM stop `beyond-vibes packs run` as a whole: a real signal to the real CLI process."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

from beyond_vibes_assets.runner.response_store import ResponseStore
from tests.conftest import VARIANT, llama_server_pids

pytestmark = pytest.mark.e2e
SLOW = [{"id": f"story{i}", "prompt": f"Write a long story about a lighthouse keeper number {i}.", "check": {"answer": 1}}
        for i in range(6)]


# SIGTERM takes the same path to a different exit code: tests/unit/test_stop_signal_codes.py (a real SIGTERM to a
# real process) replaces its run here, which cost 30 s of engine time for no other difference
@pytest.mark.parametrize("signum", [signal.SIGINT])
def test_a_stop_signal_ends_the_command_keeps_work_and_leaves_no_server(smol_env, signum):
    env = smol_env(packs={"a_stories": (SLOW, {"verifier": "numeric", "max_tokens": 60}),
                          "b_later": (SLOW[:2], {"verifier": "numeric", "max_tokens": 8})}, prepared=True)
    from beyond_vibes_assets.catalog.resource import CatalogResource
    from beyond_vibes_assets.orchestration.sync import sync_instance
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    with dg.DagsterInstance.get() as inst:  # the copied instance already holds the probe: the CLI finds it fresh
        sync_instance(inst, CatalogResource())
    cmd = [sys.executable, "-m", "beyond_vibes_assets.cli.main", "packs", "run", "--variant", VARIANT]
    proc = subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stories = ResponseStore.for_partition(VARIANT, "a_stories")
    deadline = time.monotonic() + 300
    while len(stories.records()) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the command must still be running when the signal lands"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, (proc.returncode, err[-2000:])
    assert "run the same command again to resume" in err and signal.Signals(signum).name in err
    kept = len(stories.records())
    assert 1 <= kept < len(SLOW)
    assert all(r["failure_mode"] is None for r in stories.records())  # calls cut short leave no bogus failure
    assert ResponseStore.for_partition(VARIANT, "b_later").records() == []  # nothing after the stop started
    assert llama_server_pids(str(env.home)) == set()
    with dg.DagsterInstance.get() as inst:
        runs = [r for r in inst.get_runs() if "dagster/asset_partition_range_start" in r.tags
                and "|" in r.tags["dagster/asset_partition_range_start"]]  # the pack_results run
        assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE]

    resumed = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    ok = [r["cache_key"] for r in stories.records() if r["failure_mode"] is None]
    assert len(ok) == len(set(ok)) == len(SLOW)  # completed answers were kept, not sent again
