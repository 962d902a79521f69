"""A warm run-worker pool: one process that has imported Dagster and the code location once, and forks a
run worker per run.

Dagster's default launcher starts every run as a fresh interpreter (the code server spawns it): importing
dagster, pandas (DuckDB imports it on the first parameterized query) and the definitions costs ~2 CPU-seconds
per run before the first line of the asset runs. A backfill of answered partitions is made of such runs
(Dagster plans one per value of the smaller partition dimension), so that start-up, not the work, set its pace.
Forking from this process makes a run worker in milliseconds with everything already imported.

The child does exactly what `dagster api execute_run` does (the same click command, in-process), so the run's
events, cancellation and failure handling are Dagster's own. Protocol on stdin/stdout, one JSON object per
line: the launcher sends {"run_id", "args"} (serialized ExecuteRunArgs); the pool answers {"run_id", "pid"} or
{"run_id", "error"}. The pool exits when its stdin closes (the launcher went away); run workers it forked keep
running to their end, as spawned ones would.

    python -m beyond_vibes_assets.orchestration.warm_pool MODULE [MODULE ...]
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback

POOL_MARKER = "beyond_vibes_assets.orchestration.warm_pool"  # in the pool's (and so its children's) command line


def preload(modules: list[str]) -> None:
    """Import what every run worker needs. Nothing here may start a thread or open a connection: the pool forks."""
    import dagster  # noqa: F401 - the import is the point

    from .dagster_private import execute_run_command  # noqa: F401

    for name in modules:
        importlib.import_module(name)
    if os.environ.get("DAGSTER_HOME"):  # instance storage imports SQLAlchemy and Alembic lazily: pay that here
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            instance.get_runs(limit=1)


def run_worker(args_json: str) -> int:
    """In the forked child: `dagster api execute_run ARGS` without a new interpreter."""
    from .dagster_private import execute_run_command

    try:
        execute_run_command.main(args=[args_json], standalone_mode=False, prog_name="dagster api execute_run")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the run's own failure is in its event log; say why the worker ended
        traceback.print_exc()
        return 1
    return 0


def fork_worker(args_json: str) -> int:
    """Fork one run worker; returns its pid (in the parent)."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the worker waits on its own children (llama-server)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # the protocol's pipes are fds 0 and 1: the worker reads neither
        os.close(devnull)
        os.dup2(2, 1)  # the run's prints go where the pool's stderr goes (the daemon's log), never into the protocol
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        code = run_worker(args_json)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Answer fork requests on stdin/stdout (fds 0 and 1, which each worker replaces) until stdin closes."""
    stdin, stdout = sys.stdin, sys.stdout
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished workers are reaped by the kernel, never zombies
    stdout.write(json.dumps({"ready": os.getpid()}) + "\n")
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = {"run_id": request["run_id"], "pid": fork_worker(request["args"])}
        except OSError as exc:
            reply = {"run_id": request.get("run_id"), "error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


def main(argv: list[str]) -> int:
    preload(argv)
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
