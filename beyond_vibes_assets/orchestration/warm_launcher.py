"""WarmRunLauncher: Dagster's default launcher, with run workers forked from a warm pool (warm_pool.py).

Why: every run of the default launcher is a new interpreter that imports Dagster and the code location before
doing anything (~2 CPU-seconds here); Dagster plans a UI backfill of `variant x task` partitions as one run per
value of the smaller dimension, so a backfill of already-answered partitions was paced by interpreter start-up.
Configured in `deploy/dagster.yaml` (the local profile):

    run_launcher:
      module: beyond_vibes_assets.orchestration.warm_launcher
      class: WarmRunLauncher

Runs of other code locations, or any run when the pool cannot start, go the default way (the code server).
The pool is restarted when a Python file of the code location changed since it started, so an edited asset
never runs as its old self. Termination sends SIGTERM to the worker, as Kubernetes does to a run pod; the worker
handles it with Dagster's own interrupt handling (the run ends CANCELED).
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..settings import REPO_ROOT
from .dagster_private import ConfigurableClassData, DefaultRunLauncher, LaunchRunContext
from .process_identity import alive, started_at
from .warm_pool import POOL_MARKER

PID_TAG = "beyond_vibes/run_worker_pid"
CODE_PACKAGES = ("beyond_vibes_assets", "resources", "partitions")
PRELOAD = ("beyond_vibes_assets.definitions", "pandas", "duckdb")
START_TIMEOUT_S = 120.0
FORK_TIMEOUT_S = 15.0  # a fork answers in milliseconds; a pool silent this long is wedged
STARTED_TAG = "beyond_vibes/run_worker_started"  # the worker's start time: with the pid, its identity


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """Paths, sizes and mtimes of the code location's Python files: changes when any of them is edited."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class WarmPool:
    """The pool process and its pipe. Thread-safe: the daemon may launch from several threads. A reader thread
    hands each reply to the request waiting for it, so a launch waits (at most FORK_TIMEOUT_S) for its own reply
    without holding a lock: one wedged pool delays launches by the timeout, then is killed and replaced."""

    def __init__(self, python: str, cwd: str, modules: tuple[str, ...], argv: list[str] | None = None):
        self.fingerprint = code_fingerprint()
        self.proc = subprocess.Popen(argv or [python, "-m", POOL_MARKER, *modules], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        # a pool that cannot import the code location within the limit is given up: runs go the default way
        ready = self.proc.stdout.readline() if select.select([self.proc.stdout], [], [], START_TIMEOUT_S)[0] else ""
        if not ready.startswith('{"ready"'):
            self.close()
            raise RuntimeError(f"warm pool did not start (exit code {self.proc.poll()})")
        self._write_lock = threading.Lock()
        self._replies: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self.broken: str | None = None
        threading.Thread(target=self._read, daemon=True, name="warm-pool-replies").start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            try:
                reply = json.loads(line)
            except json.JSONDecodeError:
                continue
            waiting = self._replies.pop(str(reply.get("run_id")), None)
            if waiting:
                waiting[1].append(reply)
                waiting[0].set()
        self.broken = self.broken or f"warm pool exited (code {self.proc.poll()})"
        for event, _ in list(self._replies.values()):  # wake everyone still waiting: no reply will come
            event.set()

    def alive(self) -> bool:
        return self.broken is None and self.proc.poll() is None

    def fork(self, run_id: str, args_json: str, timeout_s: float | None = None) -> int:
        """The pid of a run worker forked for run_id; raises when the pool fails or does not answer in time."""
        event, box = threading.Event(), []
        self._replies[run_id] = (event, box)
        try:
            with self._write_lock:  # held only to write one line
                self.proc.stdin.write(json.dumps({"run_id": run_id, "args": args_json}) + "\n")  # type: ignore[union-attr]
                self.proc.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            self._replies.pop(run_id, None)
            self.broken = f"warm pool pipe closed: {exc}"
            raise RuntimeError(self.broken) from exc
        if not event.wait(FORK_TIMEOUT_S if timeout_s is None else timeout_s):
            self._replies.pop(run_id, None)
            self.broken = "warm pool did not answer a fork request in time"
            self.proc.kill()  # wedged: replaced on the next launch; workers it already forked run on
            raise RuntimeError(self.broken)
        if not box:
            raise RuntimeError(self.broken or "warm pool exited")
        reply = box[0]
        if "pid" not in reply:
            raise RuntimeError(f"warm pool could not fork: {reply.get('error')}")
        return int(reply["pid"])

    def close(self) -> None:
        """Stop the pool; the run workers it forked run on to their end."""
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def is_pool_worker(pid: int) -> bool:
    """Whether pid is still a process forked from a warm pool (not a reused pid of something else)."""
    try:
        return POOL_MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class WarmRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers are forked from a warm pool for this repository's code location."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload: list[str] | None = None):
        super().__init__(inst_data=inst_data)
        self._preload = tuple(preload or PRELOAD)
        self._pools: dict[tuple[str, str], WarmPool] = {}
        self._pools_lock = threading.Lock()

    @classmethod
    def config_type(cls):
        from dagster import Field

        return {"preload": Field([str], is_required=False, description="Modules the pool imports before forking.")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]):
        return cls(inst_data=inst_data, preload=config_value.get("preload"))

    def _pool_for(self, python: str, cwd: str) -> WarmPool:
        with self._pools_lock:
            pool = self._pools.get((python, cwd))
            if pool is not None and (not pool.alive() or pool.fingerprint != code_fingerprint()):  # or wedged
                pool.close()  # the code changed (or the pool died): new runs get the new code
                pool = None
            if pool is None:
                pool = self._pools[(python, cwd)] = WarmPool(python, cwd, self._preload)
            return pool

    def _ours(self, run) -> tuple[str, str] | None:
        """(python, working directory) of a run of this repository's code location, else None."""
        origin = run.job_code_origin
        pointer = getattr(getattr(origin, "repository_origin", None), "code_pointer", None)
        cwd = getattr(pointer, "working_directory", None)
        module = getattr(pointer, "module", None) or ""
        if not cwd or Path(cwd).resolve() != REPO_ROOT or not module.startswith("beyond_vibes_assets"):
            return None
        return origin.repository_origin.executable_path or sys.executable, cwd

    def launch_run(self, context: LaunchRunContext) -> None:
        from .dagster_private import EngineEventData, ExecuteRunArgs, serialize_value

        run = context.dagster_run
        where = self._ours(run)
        if where is None:
            return super().launch_run(context)
        try:
            pool = self._pool_for(*where)
        except (OSError, RuntimeError) as exc:
            self._instance.report_engine_event(f"warm pool unavailable ({exc}); launching the default way",
                                               run, cls=self.__class__)
            return super().launch_run(context)
        args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id, instance_ref=self._instance.get_ref(),
                              set_exit_code_on_failure=False)
        try:
            pid = pool.fork(run.run_id, serialize_value(args))
        except (OSError, RuntimeError, ValueError) as exc:  # the pool failed mid-request: this run goes the default way
            self._instance.report_engine_event(f"warm pool failed ({exc}); launching the default way", run,
                                               cls=self.__class__)
            return super().launch_run(context)
        self._instance.add_run_tags(run.run_id, {PID_TAG: str(pid), STARTED_TAG: repr(started_at(pid) or 0.0)})
        self._instance.report_engine_event(f"Run worker forked from the warm pool (pid {pid}, code {pool.fingerprint})",
                                           run, EngineEventData.in_process(pid), cls=self.__class__)
        self._run_ids.add(run.run_id)

    def terminate(self, run_id: str) -> bool:
        if not self.has_instance:
            return False
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        if PID_TAG not in run.tags:
            return super().terminate(run_id)
        self._instance.report_run_canceling(run)
        pid = int(run.tags[PID_TAG])
        if not self._worker_alive(run):
            self._instance.report_engine_event(f"run worker pid {pid} is gone; nothing to terminate", run,
                                               cls=self.__class__)
            return False
        os.kill(pid, signal.SIGTERM)
        return True

    def _worker_alive(self, run) -> bool:
        """The run's worker is still the process forked for it: same pid, same start time, still a pool child."""
        pid = int(run.tags[PID_TAG])
        started = float(run.tags[STARTED_TAG]) if run.tags.get(STARTED_TAG) else None
        return alive(pid, started or None) and is_pool_worker(pid)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run):
        """For run monitoring (enabled in deploy/dagster.yaml): a forked worker that is gone while its run is not
        finished failed (killed, OOM); runs launched the default way are the code server's to watch."""
        from .dagster_private import CheckRunHealthResult, WorkerStatus

        if PID_TAG not in run.tags:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "launched through the code server")
        if self._worker_alive(run):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker pid {run.tags[PID_TAG]} is gone (killed?); "
                                                         "completed partitions are kept, re-run to resume")

    def dispose(self) -> None:
        with self._pools_lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
        super().dispose()
