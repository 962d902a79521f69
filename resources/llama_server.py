"""Start a real llama-server per variant on 127.0.0.1 and always stop it.

The server is started with PR_SET_PDEATHSIG so that even a SIGKILL of the run process takes the
server with it; normal exits, failures and Ctrl-C stop it in `finally`. The server log is kept beside
the run so a crash can be read afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
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

PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    os.setpgrp()


class RssSampler:
    """Peak resident memory of a process, sampled in a thread while it serves."""

    def __init__(self, pid: int, interval_s: float = 0.05):
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
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
    process: subprocess.Popen
    log_path: Path
    load_time_s: float
    props: dict[str, Any] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def slots(self) -> int:
        return int(self.props.get("total_slots") or 1)

    @property
    def openai_base(self) -> str:
        return f"{self.base_url}/v1"

    def rss_bytes(self) -> int:
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return 0

    def alive(self) -> bool:
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


class LlamaServerResource(dg.ConfigurableResource):
    """Serves one GGUF with one engine config for the duration of a `with` block."""

    host: str = "127.0.0.1"
    startup_timeout_s: float = 180.0

    @contextlib.contextmanager
    def serve(self, binary: str, model_path: str, args: list[str], log_path: Path,
              alias: str = "model", extra_args: list[str] | None = None) -> Iterator[RunningServer]:
        port = free_port(self.host)
        command = [binary, "--model", str(model_path), "--host", self.host, "--port", str(port),
                   "--alias", alias, "--metrics", "--no-webui", *args, *(extra_args or [])]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - closed in finally
        log.write(f"\n# {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
        log.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent)
        try:
            base = f"http://{self.host}:{port}"
            self._wait_healthy(process, base, log_path)
            load_time = time.perf_counter() - started
            props = httpx.get(f"{base}/props", timeout=10).json()
            yield RunningServer(base, port, process, log_path, load_time, props, command)
        finally:
            stop_process(process)
            log.close()

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
