"""Running a sandboxed command: bounded output, a wall clock, and nothing left behind.

The output is drained by a thread that keeps the first bytes and counts the rest (a 1 GB output costs no
memory); on timeout, and always at the end, the whole process tree is killed and reaped. Side channels
are pipes whose write ends the command inherits and whose read ends only the harness holds: bubblewrap's
status (did the sandbox start?) and the execution verifiers' result path, apart from the candidate's stdout.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CHANNEL_BYTES = 1 << 20


@dataclass(frozen=True)
class Completed:
    exit_code: int | None
    output: bytes
    output_bytes: int
    duration_s: float
    timed_out: bool
    channels: dict[str, bytes] = field(default_factory=dict)


def run_bounded(argv_for: Callable[[dict[str, int]], list[str]], *, cwd: str, env: dict[str, str], timeout_s: float,
                output_bytes: int, stdin: bytes | None = None, channels: tuple[str, ...] = ()) -> Completed:
    """Run argv_for({channel name: write fd}) with the channels' write ends inherited (same numbers inside)."""
    pipes = {name: os.pipe() for name in channels}
    for _, write_fd in pipes.values():
        os.set_inheritable(write_fd, True)
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(argv_for({n: w for n, (_, w) in pipes.items()}), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                cwd=cwd, env=env, process_group=0, pass_fds=tuple(w for _, w in pipes.values()))
    except BaseException:
        for pair in pipes.values():
            for fd in pair:
                os.close(fd)
        raise
    for _, write_fd in pipes.values():
        os.close(write_fd)  # only the command holds the write ends now: EOF when its last process ends
    kept, total = bytearray(), [0]
    side: dict[str, bytearray] = {name: bytearray() for name in pipes}

    def drain() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(65536):
            total[0] += len(chunk)
            room = output_bytes - len(kept)
            if room > 0:
                kept.extend(chunk[:room])

    def drain_channel(read_fd: int, into: bytearray) -> None:
        while chunk := os.read(read_fd, 65536):
            room = CHANNEL_BYTES - len(into)
            if room > 0:
                into.extend(chunk[:room])

    readers = [threading.Thread(target=drain, daemon=True)]
    readers += [threading.Thread(target=drain_channel, args=(r, side[n]), daemon=True) for n, (r, _) in pipes.items()]
    for reader in readers:
        reader.start()
    if stdin is not None:
        try:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    timed_out = False
    try:
        timed_out = not _wait_exit(proc, timeout_s)
    finally:
        kill_tree(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for reader in readers:
        reader.join(timeout=5)
    for (read_fd, _), reader in zip(pipes.values(), readers[1:]):
        if not reader.is_alive():  # a reader still blocked keeps its descriptor (never reused under it)
            os.close(read_fd)
    return Completed(None if timed_out else proc.returncode, bytes(kept), total[0], time.perf_counter() - started,
                     timed_out, {name: bytes(data) for name, data in side.items()})


def _wait_exit(proc: subprocess.Popen, timeout_s: float) -> bool:
    """Whether the process exited within timeout_s. A pidfd wakes us the moment it exits (Popen.wait with a
    timeout polls with growing sleeps, which added up to ~10 ms to every short sandboxed command)."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout_s)
        return bool(ready)
    finally:
        os.close(pidfd)


def kill_tree(pid: int) -> None:
    """SIGKILL a sandboxed command's process group and every descendant, and wait until they are gone.

    bwrap runs the command in a new session inside its own PID namespace; killing bwrap tears that namespace
    down, but asynchronously, so the descendants are also killed and reaped here, by pid, before returning."""
    import psutil

    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(descendants, timeout=10)
