"""The warm launcher's decisions that need no daemon: which runs are its own, and when its pool is stale.
(Forking real run workers is tested end to end in tests/e2e/test_warm_launcher.py.)"""

import os
import types

from beyond_vibes_assets.orchestration.warm_launcher import WarmRunLauncher, code_fingerprint, is_pool_worker
from beyond_vibes_assets.settings import REPO_ROOT


def fake_run(module: str, working_directory: str):
    pointer = types.SimpleNamespace(module=module, working_directory=working_directory)
    origin = types.SimpleNamespace(repository_origin=types.SimpleNamespace(code_pointer=pointer,
                                                                           executable_path="/usr/bin/python3"))
    return types.SimpleNamespace(job_code_origin=origin)


def test_only_this_repository_code_location_is_forked_from_the_pool():
    launcher = WarmRunLauncher()
    assert launcher._ours(fake_run("beyond_vibes_assets.definitions", str(REPO_ROOT))) == ("/usr/bin/python3",
                                                                                          str(REPO_ROOT))
    assert launcher._ours(fake_run("someone_elses.definitions", str(REPO_ROOT))) is None
    assert launcher._ours(fake_run("beyond_vibes_assets.definitions", "/elsewhere")) is None


def test_editing_a_source_file_changes_the_fingerprint(tmp_path):
    for package in ("beyond_vibes_assets", "resources", "partitions"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    before = code_fingerprint(tmp_path)
    assert code_fingerprint(tmp_path) == before
    target = tmp_path / "resources" / "__init__.py"
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert code_fingerprint(tmp_path) != before
    (tmp_path / "partitions" / "new.py").write_text("x = 1\n")
    assert len({before, code_fingerprint(tmp_path)}) == 2


def test_a_pid_that_is_not_a_pool_worker_is_never_signalled():
    assert not is_pool_worker(os.getpid())  # pytest's own process
    assert not is_pool_worker(2 ** 22 + 12345)  # no such process


def _fake_pool(tmp_path, behaviour: str):
    """A pool process that says ready, then misbehaves: 'wedge' never answers, 'die' exits on the first request."""
    import sys

    from beyond_vibes_assets.orchestration.warm_launcher import WarmPool

    script = tmp_path / "pool.py"
    script.write_text("import sys, time\nprint('{\"ready\": 1}', flush=True)\nline = sys.stdin.readline()\n"
                      + ("time.sleep(60)\n" if behaviour == "wedge" else "sys.exit(3)\n"))
    return WarmPool(sys.executable, str(tmp_path), (), argv=[sys.executable, str(script)])


def test_a_wedged_pool_times_out_without_holding_launches_and_is_replaced(tmp_path):
    import threading
    import time

    import pytest

    pool = _fake_pool(tmp_path, "wedge")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not answer"):
        pool.fork("run-1", "{}", timeout_s=0.5)
    assert time.monotonic() - started < 5 and not pool.alive()  # killed: the next launch starts a new pool
    # a second request while another waits does not queue behind a lock
    pool2 = _fake_pool(tmp_path, "wedge")
    errors = []
    waiter = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, pool2.fork, "a", "{}", 2.0)))
    waiter.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError):
        pool2.fork("b", "{}", timeout_s=0.3)
    assert time.monotonic() - t0 < 1.5
    waiter.join()


def test_a_pool_that_dies_mid_request_fails_the_fork_not_the_launcher(tmp_path):
    import pytest

    pool = _fake_pool(tmp_path, "die")
    with pytest.raises(RuntimeError, match="exited"):
        pool.fork("run-1", "{}", timeout_s=10)
    assert not pool.alive()


def test_run_worker_health_by_pid_and_start_time():
    import subprocess
    import sys

    from beyond_vibes_assets.orchestration.dagster_private import WorkerStatus
    from beyond_vibes_assets.orchestration.process_identity import started_at
    from beyond_vibes_assets.orchestration.warm_launcher import PID_TAG, POOL_MARKER, STARTED_TAG

    launcher = WarmRunLauncher()
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", POOL_MARKER])
    try:
        import time

        time.sleep(0.2)
        run = types.SimpleNamespace(tags={PID_TAG: str(worker.pid), STARTED_TAG: repr(started_at(worker.pid))})
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
        reused = types.SimpleNamespace(tags={PID_TAG: str(worker.pid), STARTED_TAG: repr(started_at(worker.pid) - 100)})
        assert launcher.check_run_worker_health(reused).status == WorkerStatus.FAILED  # same pid, another process
    finally:
        worker.kill()
        worker.wait()
    assert launcher.check_run_worker_health(run).status == WorkerStatus.FAILED
    assert launcher.check_run_worker_health(types.SimpleNamespace(tags={})).status == WorkerStatus.UNKNOWN


def test_the_warm_launcher_is_opt_in_when_the_instance_is_seeded(tmp_path, monkeypatch):
    """At 1,000 answered partitions the warm pool saved nothing of a backfill's wall time, so the seeded instance
    uses Dagster's own launcher unless BEYOND_VIBES_WARM_LAUNCHER=1; both configs load as Dagster instances."""
    import dagster as dg
    import yaml

    from beyond_vibes_assets.settings import ensure_dagster_home

    for flag, warm in (("", False), ("1", True)):
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / f"dagster{flag}"))
        monkeypatch.setenv("BEYOND_VIBES_WARM_LAUNCHER", flag)
        home = ensure_dagster_home()
        config = yaml.safe_load((home / "dagster.yaml").read_text())
        assert ("run_launcher" in config) is warm and config["run_monitoring"]["enabled"]
        with dg.DagsterInstance.get() as instance:
            assert (type(instance.run_launcher).__name__ == "WarmRunLauncher") is warm
