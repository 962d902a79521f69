"""Start a real llama-server per variant on 127.0.0.1 and always stop it.

The server runs in its own process group (`process_group=0`, no `preexec_fn`: that is unsafe while
other threads run, and GPU telemetry runs one) under `setpriv --pdeathsig KILL`, so even a SIGKILL of
the run process takes the server with it; normal exits, failures and Ctrl-C stop it in `finally`. A
port taken between picking it and binding it is retried on a new port. The server log is kept beside
the run so a crash can be read afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import psutil

BIND_FAILED = "couldn't bind"  # what llama-server logs when its port was taken meanwhile
PORT_ATTEMPTS = 3


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def die_with_parent(command: list[str]) -> list[str]:
    """Prefix a command so the kernel SIGKILLs it when its parent dies (util-linux setpriv; exec, no preexec_fn)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


class RssSampler:
    """Peak resident memory of a process, sampled in a thread while it serves."""

    def __init__(self, pid: int | None, interval_s: float = 0.05):
        self.pid, self.interval_s = pid, interval_s
        self.peak: int | None = 0 if pid is not None else None  # a remote server's memory is not ours to see
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if self.pid is None:
            return
        try:
            proc = psutil.Process(self.pid)
            while not self._stop.is_set():
                self.peak = max(self.peak, proc.memory_info().rss)
                time.sleep(self.interval_s)
        except psutil.Error:
            return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


@dataclass
class RunningServer:
    base_url: str
    port: int
    process: subprocess.Popen | None  # None: a remote server someone else runs
    log_path: Path
    load_time_s: float
    props: dict[str, Any] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def slots(self) -> int:
        return int(self.props.get("total_slots") or 1)

    @property
    def openai_base(self) -> str:
        return f"{self.base_url}/v1"

    def rss_bytes(self) -> int:
        if self.pid is None:  # a remote server: not measurable from here
            return 0
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return 0

    def alive(self) -> bool:
        if self.process is None:  # a remote server: alive while it answers
            try:
                return httpx.get(f"{self.base_url}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False
        return self.process.poll() is None


def stop_process(process: subprocess.Popen, grace_s: float = 5.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=grace_s)


class EngineStartError(RuntimeError):
    pass


def _now() -> str:
    from datetime import datetime

    return datetime.now().isoformat(timespec="milliseconds")


class LlamaServerResource(dg.ConfigurableResource):
    """Serves one GGUF with one engine config for the duration of a `with` block."""

    host: str = "127.0.0.1"
    startup_timeout_s: float = 180.0

    @contextlib.contextmanager
    def serve(self, binary: str, model_path: str, args: list[str], log_path: Path,
              alias: str = "model", extra_args: list[str] | None = None) -> Iterator[RunningServer]:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            for attempt in range(1, PORT_ATTEMPTS + 1):
                port = free_port(self.host)
                command = [binary, "--model", str(model_path), "--host", self.host, "--port", str(port),
                           "--alias", alias, "--metrics", "--no-webui", *args, *(extra_args or [])]
                log.write(f"\n# {_now()} {' '.join(command)}\n".encode())
                log.flush()
                offset = log_path.stat().st_size
                started = time.perf_counter()
                process = subprocess.Popen(die_with_parent(command), stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, process_group=0)
                try:
                    base = f"http://{self.host}:{port}"
                    try:
                        self._wait_healthy(process, base, log_path)
                    except EngineStartError:
                        taken = BIND_FAILED in log_path.read_text(errors="replace")[offset:]
                        if taken and attempt < PORT_ATTEMPTS:
                            continue  # the port was taken between free_port() and bind: try another
                        raise
                    load_time = time.perf_counter() - started
                    props = httpx.get(f"{base}/props", timeout=10).json()
                    yield RunningServer(base, port, process, log_path, load_time, props, command)
                    return
                finally:
                    stop_process(process)
                    log.write(f"\n## {_now()} stopped pid {process.pid}\n".encode())  # the server's lifetime, for audits
                    log.flush()

    def _wait_healthy(self, process: subprocess.Popen, base: str, log_path: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise EngineStartError(f"llama-server exited with code {process.returncode} while loading; log {log_path}:\n{tail}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise EngineStartError(f"llama-server not healthy within {self.startup_timeout_s:.0f}s; log {log_path}")
