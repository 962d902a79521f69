"""One resource budget per sandbox: processes, memory and disk are charged to that sandbox alone.

The kernel counts RLIMIT_NPROC per *uid* across the machine, so sandboxes that share one uid share one process
budget: one that forks its 128 processes makes every other fail with "Cannot fork". As root, each running
sandbox therefore takes its own uid from a machine-wide pool (a flock per uid under /tmp, so separate
processes, homes and clones on the machine never hand out the same uid at once; a lock dies with its holder).
The lease is held only while the sandbox's processes run; files it leaves are re-owned to the next lease's uid.

Where the machine lets us create cgroups (v2 with the pids and memory controllers, or the v1 `pids` and
`memory` hierarchies), the sandbox also gets a cgroup of its own: a process ceiling (pids.max) and a memory
ceiling summed over all its processes (RLIMIT_AS only bounds each process). Everything left in the cgroup is
killed when the command ends. Not root: the sandbox runs as our own uid (the process limit then counts the
harness's processes too, which is why it is raised by their number). The mechanism in use is recorded with
every execution and episode (`Lease.mechanism`).

Disk: RLIMIT_FSIZE bounds each file, the sandbox's /tmp is a tmpfs of a fixed size, and the workspace is
measured after each command (`Workspace.run` reports a sandbox over its disk budget).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import settings

# Far above login, system and the usual subordinate-uid ranges (100000 + 65536 n), so no real account or
# container user owns one; one lock folder per machine (not per TMPDIR), shared by every home and clone.
UID_BASE = 0x60000000
UID_POOL = 256
LOCK_DIR = Path("/tmp/beyond-vibes-sandbox-uids")
WAIT_S = 120.0
_counter = itertools.count()


class BudgetUnavailable(RuntimeError):
    """No sandbox uid was free in time (every pool uid busy): the machine's failure, not the model's."""


@dataclass
class Lease:
    uid: int | None  # the uid the sandbox runs as (None: our own, not root)
    cgroups: list[Path] = field(default_factory=list)  # cgroup folders the sandbox's processes are moved into
    mechanism: str = ""
    _lock_fd: int | None = None

    def wrap(self, argv: list[str]) -> list[str]:
        """argv run by a tiny shell that first moves itself into the sandbox's cgroups (before anything can fork),
        so no process of the sandbox starts outside them; exit 125 when it cannot."""
        if not self.cgroups:
            return argv
        procs = [str(c / "cgroup.procs") for c in self.cgroups]
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "bv-cgroup", *procs, "--", *argv]

    def memory_events(self) -> dict[str, int]:
        """How often the memory ceiling was hit (oom_kill / failcnt), for the verdict's reason."""
        out: dict[str, int] = {}
        for group in self.cgroups:
            for name in ("memory.events", "memory.failcnt"):
                with contextlib.suppress(OSError, ValueError):
                    text = (group / name).read_text()
                    if name == "memory.failcnt":
                        out["failcnt"] = int(text.strip())
                    else:
                        out.update({k: int(v) for k, v in (line.split() for line in text.splitlines())})
        return out


def _cgroup_v1_roots(controllers: tuple[str, ...] = ("pids", "memory")) -> dict[str, Path]:
    """Mount point + our own path of each v1 controller hierarchy."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[2] == "cgroup":
                for option in parts[3].split(","):
                    if option in controllers:
                        mounts[option] = Path(parts[1])
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            for name in names.split(","):
                paths[name] = path
    return {c: mounts[c] / paths[c].lstrip("/") for c in controllers if c in mounts and c in paths}


def _cgroup_v2_root() -> Path | None:
    """Our own v2 cgroup when the pids and memory controllers are delegated to its children."""
    with contextlib.suppress(OSError, ValueError):
        unified = None
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "cgroup2":
                unified = Path(parts[1])
                break
        if unified is None:
            return None
        own = next(line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text().splitlines()
                   if line.startswith("0::"))
        base = unified / own.lstrip("/")
        if {"pids", "memory"} <= set((base / "cgroup.subtree_control").read_text().split()):
            return base
    return None


_probe: dict[str, object] = {}


def cgroup_mode() -> str:
    """'v2', 'v1' or 'none': what this machine lets us create (checked once, by creating one)."""
    if settings().sandbox_cgroups == "off":
        return "none"
    if "mode" not in _probe:
        _probe["mode"] = "none"
        if os.geteuid() == 0:
            v2 = _cgroup_v2_root()
            if v2 is not None and _try_mkdir([v2 / "beyond-vibes"]):
                _probe.update(mode="v2", roots={"unified": v2 / "beyond-vibes"})
            else:
                v1 = _cgroup_v1_roots()
                if len(v1) == 2 and _try_mkdir([p / "beyond-vibes" for p in v1.values()]):
                    _probe.update(mode="v1", roots={c: p / "beyond-vibes" for c, p in v1.items()})
    return str(_probe["mode"])


def _try_mkdir(folders: list[Path]) -> bool:
    """Create our parent cgroups (and prove we may create children), removing empty ones a killed harness left."""
    try:
        for folder in folders:
            folder.mkdir(exist_ok=True)
            for stale in folder.iterdir():
                if stale.is_dir():
                    with contextlib.suppress(OSError):
                        stale.rmdir()  # busy (a live sandbox's) or not empty: left alone
            probe = folder / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
        return True
    except OSError:
        return False


def _make_cgroups(name: str, processes: int, memory_bytes: int) -> list[Path]:
    mode = cgroup_mode()
    roots: dict[str, Path] = _probe.get("roots", {})  # type: ignore[assignment]
    made: list[Path] = []
    try:
        if mode == "v2":
            group = roots["unified"] / name
            group.mkdir()
            made.append(group)
            (group / "pids.max").write_text(str(processes))
            (group / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (group / "memory.swap.max").write_text("0")
        elif mode == "v1":
            pids, memory = roots["pids"] / name, roots["memory"] / name
            pids.mkdir()
            made.append(pids)
            memory.mkdir()
            made.append(memory)
            (pids / "pids.max").write_text(str(processes))
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
    except OSError:
        _remove_cgroups(made)
        return []
    return made


def _remove_cgroups(groups: list[Path]) -> None:
    """Kill whatever is left in the sandbox's cgroups, then remove them."""
    for group in groups:
        with contextlib.suppress(OSError):
            (group / "cgroup.kill").write_text("1")
    deadline = time.monotonic() + 5
    for group in groups:
        while True:
            with contextlib.suppress(OSError, ValueError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    break
                time.sleep(0.01)


def _try_lock(uid: int) -> int | None:
    """The held lock fd of pool uid `uid`, or None when another sandbox holds it."""
    LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


def _take_uid(wait_s: float, prefer: int | None = None) -> tuple[int, int]:
    """(uid, lock fd) of a free pool uid, `prefer` first (a workspace's last uid: its files need no re-owning); the
    lock is held until the lease ends (or its holder dies)."""
    if prefer is not None and UID_BASE <= prefer < UID_BASE + UID_POOL and (fd := _try_lock(prefer)) is not None:
        return prefer, fd
    deadline = time.monotonic() + wait_s
    start = random.randrange(UID_POOL)
    while True:
        for i in range(UID_POOL):
            uid = UID_BASE + (start + i) % UID_POOL
            if (fd := _try_lock(uid)) is not None:
                return uid, fd
        if time.monotonic() > deadline:
            raise BudgetUnavailable(f"all {UID_POOL} sandbox uids ({UID_BASE}..{UID_BASE + UID_POOL - 1}) stayed busy "
                                    f"for {wait_s:.0f}s")
        time.sleep(0.05)


def describe() -> str:
    """The mechanism this machine gives a sandbox (recorded with each episode)."""
    if os.geteuid() != 0:
        return "own uid (not root): RLIMIT_NPROC shared with the harness; memory per process (RLIMIT_AS)"
    mode = cgroup_mode()
    return f"uid pool of {UID_POOL} (RLIMIT_NPROC per sandbox); " + (
        f"cgroup {mode}: pids and memory summed per sandbox" if mode != "none" else "no cgroup: memory per process")


@contextlib.contextmanager
def lease(processes: int, memory_bytes: int, *, prefer: int | None = None, wait_s: float | None = None) -> Iterator[Lease]:
    """A budget for one sandboxed command: its own uid (as root) and, where possible, its own cgroups."""
    if os.geteuid() != 0:
        yield Lease(None, mechanism="own uid (not root): RLIMIT_NPROC shared with the harness's processes; "
                                    "memory per process (RLIMIT_AS)")
        return
    uid, fd = _take_uid(WAIT_S if wait_s is None else wait_s, prefer)
    groups = _make_cgroups(f"{os.getpid()}-{next(_counter)}-{uid}", processes, memory_bytes)
    mode = cgroup_mode() if groups else "none"
    memory = "memory summed per sandbox (cgroup)" if groups else "memory per process (RLIMIT_AS)"
    mechanism = f"uid {uid} from a pool of {UID_POOL} (RLIMIT_NPROC per sandbox); " + (
        f"cgroup {mode}: pids.max {processes}, " if groups else "no cgroup: ") + memory
    try:
        yield Lease(uid, groups, mechanism, fd)
    finally:
        _remove_cgroups(groups)
        os.close(fd)
