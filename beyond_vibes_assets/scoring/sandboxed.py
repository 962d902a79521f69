"""Run a reply's code in the sandbox (bubblewrap: no network, an allow-listed view of the host, its own budget,
limits, process tree killed) and keep the result, so re-scoring never re-executes an untouched item.

An execution is keyed by the verifier's code version, the item's check, the contents of the pack files it uses
and the reply: a re-materialization finds every result stored; changing a verifier's code changes the key of
exactly the items that use it. Sandbox errors (isolation unavailable, no free budget, a sandbox that did not
start: the machine's failures) are not stored: the next scoring retries them.

What a command leaves behind is read back by `Workspace.read_back`: regular files only, no link followed at
any component, bounded, and only files the sandbox user owns (so the read needs no privilege it lacks).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..sandbox import Limits, SandboxUnavailable, Workspace, safefs
from ..settings import subdir

# Host-side signs that the sandbox refused something the code tried (reading host files, the network, ...):
# the verdict then says so, so an escape attempt is a recorded failure, not a silent wrong answer.
REFUSALS = ("Network is unreachable", "Temporary failure in name resolution", "Name or service not known",
            "Permission denied", "Operation not permitted", "Read-only file system", "PermissionError")

# The sandboxed processes' niceness: executions never starve a llama-server of CPU.
NICE = 10


@dataclass
class Execution:
    exit_code: int | None
    output: str
    timed_out: bool = False
    duration_s: float = 0.0
    sandbox_error: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)  # regular files after the run (None: over the bound)
    channel: str = ""  # the result channel (test runner), apart from the candidate's output
    mechanism: str = ""  # how the sandbox's budget was enforced
    output_truncated: bool = False
    disk_exceeded: bool = False

    def refusal(self) -> str | None:
        for line in self.output.splitlines():
            if any(sign in line for sign in REFUSALS):
                return line.strip()[:200]
        return None


_stats = {"executed": 0, "cached": 0}
_stats_lock = threading.Lock()  # verify_all counts from several threads


def stats() -> dict[str, int]:
    """How many executions ran and how many were found stored (per process; tests and metadata read it)."""
    return dict(_stats)


def limits_for(spec: dict[str, Any]) -> Limits:
    """The CPU limit sits 2 s above the wall clock: a single-threaded loop then always ends by the wall clock
    (`execution_timeout`), never by a race with the CPU limit's SIGKILL ("ended before the tests reported");
    only code burning several cores at once meets the CPU limit first."""
    timeout = float(spec.get("timeout_s", 10))
    return Limits(timeout_s=timeout, cpu_s=int(timeout) + 2, memory_bytes=int(spec.get("memory_mb", 1024)) << 20,
                  processes=64, output_bytes=16_000, disk_bytes=256 << 20)


def run_files(files: dict[str, str], command: str, limits: Limits, *, collect: bool = False, stdin: bytes | None = None,
              result_channel: bool = False, writable: bool = True) -> Execution:
    """Write `files` into a fresh workspace, run `command` there, read the regular files back when `collect`.
    `writable=False` mounts the workspace read-only (the reply cannot plant files beside the tests)."""
    scratch = Path(tempfile.mkdtemp(prefix="bv-exec-"))
    try:
        root = scratch / "ws"
        root.mkdir()
        for rel, text in files.items():
            safefs.write_bytes(root, rel, text.encode("utf-8"))
        (root / ".tmp").mkdir(exist_ok=True)
        ws = Workspace(root)
        try:
            result = ws.run(f"nice -n {NICE} /bin/sh -c {shlex.quote(command)}", limits, stdin=stdin,
                            result_channel=result_channel, writable=writable)
        except SandboxUnavailable as exc:
            return Execution(None, "", sandbox_error=str(exc))
        after = {}
        if collect and not result.sandbox_error:
            after = {rel: (data.decode("utf-8", "replace") if data is not None else None)
                     for rel, data in ws.read_back().items()}
        return Execution(result.exit_code, result.output, result.timed_out, round(result.duration_s, 3),
                         result.sandbox_error, after, result.channel.decode("utf-8", "replace"), result.mechanism,
                         result.truncated, result.disk_exceeded)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def pack_file(spec: dict[str, Any], relative: str) -> Path:
    """A file the item's check names, inside its pack folder (never outside it)."""
    root = Path(spec["pack_dir"]).resolve()
    path = (root / relative).resolve()
    if root not in path.parents and path != root:
        raise ValueError(f"{relative!r} leaves the pack folder")
    return path


def read_tree(spec: dict[str, Any], relative: str) -> dict[str, str]:
    """A pack sub-folder (or one file) as {relative name: text}."""
    path = pack_file(spec, relative)
    if path.is_file():
        return {path.name: path.read_text()}
    return {p.relative_to(path).as_posix(): p.read_text() for p in sorted(path.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def execution_key(verifier: str, code_version: str, spec: dict[str, Any], used: dict[str, str], reply: str) -> str:
    check = {k: v for k, v in spec.items() if k != "pack_dir"}
    blob = json.dumps({"verifier": verifier, "code": code_version, "check": check, "files": used, "reply": reply},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cached(key: str, run) -> dict[str, Any]:
    """The stored result for `key`, or run() now and store it (unless the sandbox itself failed)."""
    path = subdir("executions", key[:2]) / f"{key}.json"
    if path.exists():
        with _stats_lock:
            _stats["cached"] += 1
        return json.loads(path.read_text())
    with _stats_lock:
        _stats["executed"] += 1
    result = run()
    if not result.get("sandbox_error"):
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # verify_all runs calls side by side
        tmp.write_text(json.dumps(result))
        tmp.replace(path)
    return result


def as_dict(execution: Execution) -> dict[str, Any]:
    return asdict(execution)
