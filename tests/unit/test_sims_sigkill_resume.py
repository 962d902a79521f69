"""SIGKILL of `beyond-vibes sims run` mid-run, then the same command again: the finished episode is kept (its record
append-only, not re-run), the rest run once, each episode traced, the warehouse rows the latest records. Played by
the scripted agent (tests/scripted.py: mocked only because no model runs here), which holds the second episode's
first call until the kill has landed, so the kill is always mid-run. Replaces
tests/e2e/test_sim_episodes.py::test_sigkill_mid_episode_then_resume (the same CLI, episode store and resume rule;
the engine added only timing, and that a killed run leaves no llama-server behind, which
tests/e2e/test_failures.py::test_sigkill_of_the_run_process_then_resume checks on the same serving code)."""

import os
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import within
from tests.scripted import ScriptedEndpoint, api_models
from tests.unit.test_fanout_assets import GOOD, agent_script, write_note_sim


def starts_an_episode(body) -> bool:
    return not any(m.get("role") == "assistant" for m in body.get("messages") or [])


def test_a_killed_sims_run_resumes_keeping_finished_episodes(home, tmp_path, monkeypatch):
    from beyond_vibes_assets.agent.episodes import episode_store
    from beyond_vibes_assets.cli.main import main
    from resources.warehouse import WarehouseResource

    release = threading.Event()
    held = threading.Event()

    def script(body):
        with endpoint._lock:
            starts = sum(map(starts_an_episode, endpoint.requests))
        if starts > 1 and not release.is_set():  # the second episode's first call waits for the kill
            held.set()
            release.wait(60)
            return {"status": 503}
        return agent_script(body)

    endpoint = ScriptedEndpoint(script)
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["good"]).replace("max_concurrency: 4", "max_concurrency: 1"))
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    (tmp_path / "packs").mkdir()
    write_note_sim(tmp_path, monkeypatch)
    argv = ["sims", "run", "--variant", GOOD, "--sim", "note", "--repeats", "3"]
    store = episode_store(GOOD, "note")
    with endpoint.running():
        log = tmp_path / "first-run.log"  # a file, not a pipe: a full pipe would stall the run it logs
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "beyond_vibes_assets.cli.main", *argv], env=dict(os.environ),
                                    stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not held.is_set() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert held.is_set(), log.read_text()[-3000:]  # the second episode never started
            # the first episode's record is written as it ends, then again with its trace id
            assert within(60, lambda: any(r.get("trace_id") for r in store.records()))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
        kept = store.records()
        assert len(store.latest_by_key()) == 1 and proc.returncode == -signal.SIGKILL
        sent = endpoint.count()
        per_episode = sent - 1  # the first episode's calls; the held one was the second's first

        assert main(argv) == 0  # the same command again
    records = store.records()
    assert records[:len(kept)] == kept  # append-only
    latest = store.latest_by_key()
    assert len(latest) == 3 and all(r["trace_id"] for r in latest.values())  # each episode once, each traced
    assert {r["episode_id"] for r in kept} <= {r["episode_id"] for r in latest.values()}  # the finished one kept
    assert endpoint.count() - sent == 2 * per_episode  # only the two missing episodes asked the model
    rows = WarehouseResource().query("SELECT episode_id, success FROM sim_episodes")
    assert sorted(r["episode_id"] for r in rows) == sorted(r["episode_id"] for r in latest.values())
    assert all(r["success"] for r in rows)
