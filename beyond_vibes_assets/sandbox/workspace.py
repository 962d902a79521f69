"""The workspace untrusted code runs in, and the sandbox around each command.

A workspace is a folder the sandboxed commands may write. An episode's workspace (`Workspace.create`) also
has a repository that is the harness's: its git directory lies outside the workspace (beside it, in a
harness-only folder) and is shown to the sandbox read-only at `<workspace>/.git`, so commands inside can run
`git diff`, but nothing they write configures the harness's git (see hostgit.py). The episode's diff is
taken of a no-follow snapshot of the workspace's regular files.

Each command runs under bubblewrap (see mounts.py for what it sees) with its own budget (budget.py), an
allow-listed environment (no API keys; HOME and TMPDIR inside the workspace), rlimits (CPU seconds, address
space, file size, open files, processes), a wall clock that kills the whole tree, and bounded output.
Whether the sandbox itself started is read from bubblewrap's status descriptor, not from anything the command
prints: a sandbox that cannot start (or no free budget) is a `sandbox_error`, the machine's failure.

Where bubblewrap is missing the shell refuses to run, unless the task opts out with `sandbox: none`
(budget, limits and environment still apply; the episode records that it ran without isolation).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import budget, mounts, safefs
from .hostgit import HarnessGit
from .process import kill_tree, run_bounded

PASS_ENV = ("LANG", "LC_ALL", "TZ")
SCRATCH = ".tmp"  # TMPDIR of sandboxed commands inside the workspace; never part of the diff


class SandboxUnavailable(RuntimeError):
    """Isolation cannot be set up here and the task did not opt out of it."""


class PathRefused(ValueError):
    """A file-tool path that would leave the workspace, or a file the harness will not touch."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120.0
    cpu_s: int = 120
    memory_bytes: int = 4 << 30  # per process (RLIMIT_AS) and, with a cgroup, summed over the sandbox
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 128
    output_bytes: int = 32_000
    disk_bytes: int = 1 << 30  # what the workspace may hold after a command


@dataclass(frozen=True)
class ShellResult:
    exit_code: int | None
    output: str
    duration_s: float
    truncated: bool = False
    timed_out: bool = False
    output_bytes: int = 0
    sandbox_error: str | None = None  # the machine's failure (no budget, sandbox did not start): not the model's
    mechanism: str = ""  # how the budget was enforced
    channel: bytes = b""  # the result channel's content (execution verifiers)
    disk_exceeded: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.sandbox_error and not self.disk_exceeded


@functools.lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """None when bubblewrap can build the sandbox here, else why not (checked once, with a real run)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (deploy/install.sh does it)"
    probe = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent",
                            *mounts.bwrap_mounts(None), "--", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return None


class Workspace:
    def __init__(self, root: Path, base: str = "HEAD", git: HarnessGit | None = None):
        self.root = Path(root).resolve()
        self.base = base  # the fixture commit every diff is taken against
        self._git = git
        self.owner: int | None = None  # the sandbox uid the files were last handed to (as root)

    @classmethod
    def create(cls, fixture: Path, dest: Path) -> Workspace:
        """A fresh copy of `fixture` at `dest`, committed once in a repository the harness keeps beside it."""
        dest = Path(dest)
        harness = _harness_dir(dest)
        for path in (dest, harness):
            if path.exists():
                shutil.rmtree(path)
        shutil.copytree(fixture, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"), symlinks=True)
        harness.mkdir(mode=0o700, parents=True)
        git = HarnessGit(harness / "git", dest.resolve(), harness / "home")
        git.init()
        git("add", "-A", "--force")
        git("commit", "-q", "--allow-empty", "-m", "fixture")
        ws = cls(dest, git("rev-parse", "HEAD").strip(), git)
        (ws.root / SCRATCH).mkdir(exist_ok=True)
        return ws

    @property
    def harness_dir(self) -> Path:
        return _harness_dir(self.root)

    def remove(self) -> None:
        """Delete the workspace and the harness's folder beside it."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.harness_dir, ignore_errors=True)

    def git(self, *args: str, input: str | None = None) -> str:
        """The harness's git on this workspace's repository (none for a plain workspace)."""
        if self._git is None:
            raise RuntimeError("this workspace has no repository (Workspace.create makes one)")
        return self._git(*args, input=input)

    def hand_over(self, path: Path) -> None:
        """Files the harness wrote become the sandbox user's (kept as they are until the first command runs)."""
        if os.geteuid() == 0 and self.owner is not None:
            safefs.chown_tree(path, self.owner) if Path(path).is_dir() else os.lchown(path, self.owner, self.owner)

    def resolve(self, relative: str) -> Path:
        """The host path of a workspace-relative path, checked without following links; refuses absolute paths,
        '..', links at any component, and the .git folder."""
        try:
            parts = safefs.parts_of(relative)
        except safefs.Refused as exc:
            raise PathRefused(str(exc)) from None
        if ".git" in parts:
            raise PathRefused("the .git folder is off limits to file tools")
        if parts:
            try:
                os.close(safefs.open_dir(self.root, parts[:-1]))
            except safefs.Refused as exc:
                raise PathRefused(str(exc)) from None
            except (FileNotFoundError, NotADirectoryError):
                pass
            kind = safefs.exists(self.root, "/".join(parts))
            if kind == "other":
                raise PathRefused(f"{relative!r} is a link or a special file; links are never followed")
        return self.root.joinpath(*parts)

    def diff(self) -> str:
        """The episode's change against the fixture commit: regular files only (no link, no .git, no scratch),
        taken of a snapshot so git never reads a tree the sandbox can write."""
        snap = self.harness_dir / "snapshot"
        if snap.exists():
            shutil.rmtree(snap)
        snap.mkdir()
        for rel, data in safefs.read_tree(self.root, max_file_bytes=8 << 20, max_total_bytes=64 << 20,
                                          skip_top=frozenset({SCRATCH})).items():
            if data is not None:
                safefs.write_bytes(snap, rel, data)
        if self._git is None:
            raise RuntimeError("this workspace has no repository (Workspace.create makes one)")
        snap_git = HarnessGit(self._git.git_dir, snap, self._git.home)
        snap_git("add", "-A", "--force", "--intent-to-add")
        try:
            return snap_git("diff", "--no-color", "--no-ext-diff", "--no-textconv", self.base)
        finally:
            snap_git("reset", "-q")  # the index back to the fixture commit for the sandbox's own `git diff`
            shutil.rmtree(snap, ignore_errors=True)

    def changed_files(self, diff: str | None = None) -> list[str]:
        """Paths the episode changed (from `diff` when the caller already has it: one git call less)."""
        text = self.diff() if diff is None else diff
        return [line.split(" b/", 1)[1] for line in text.splitlines() if line.startswith("diff --git ") and " b/" in line]

    def apply(self, patch: str) -> None:
        """Apply a stored diff (or a reference patch) to this workspace with the harness's git."""
        self.git("apply", "--whitespace=nowarn", "-", input=patch)

    def read_back(self, **bounds) -> dict[str, bytes | None]:
        """The regular files a command left (links never followed, bounded), only those the sandbox user owns or
        we wrote: reading them needs no privilege the sandbox user lacks."""
        owners = {os.geteuid()} | ({self.owner} if self.owner is not None else set())
        return {rel: data for rel, data in safefs.read_tree(self.root, **bounds).items()
                if data is None or _owned(self.root, rel, owners)}

    def run(self, command: str, limits: Limits = Limits(), isolation: str = "bubblewrap", *, stdin: bytes | None = None,
            result_channel: bool = False, writable: bool = True) -> ShellResult:
        """Run a shell command in the sandbox with the workspace as working directory."""
        if isolation != "none" and (problem := isolation_problem()):
            raise SandboxUnavailable(f"{problem}. Or set 'sandbox: none' in the sim's task.yaml to run without "
                                     "isolation (the episode and the report will say so).")
        try:
            with self.lease(limits) as lease:
                channels: tuple[str, ...] = ("status",) if isolation != "none" else ()
                channels += ("result",) if result_channel else ()

                def argv_for(fds: dict[str, int]) -> list[str]:
                    return lease.wrap(self.argv(command, limits, isolation, uid=lease.uid, writable=writable,
                                                status_fd=fds.get("status"), result_fd=fds.get("result")))

                done = run_bounded(argv_for, cwd=str(self.root), env=self.env(), timeout_s=limits.timeout_s,
                                   output_bytes=limits.output_bytes, stdin=stdin, channels=channels)
                if isolation == "none" and lease.uid is not None:
                    _kill_uid(lease.uid)
                memory_hits = lease.memory_events()
                mechanism = lease.mechanism
        except budget.BudgetUnavailable as exc:
            return ShellResult(None, "", 0.0, sandbox_error=str(exc))
        text = done.output.decode("utf-8", "replace")
        truncated = done.output_bytes > len(done.output)
        if truncated:
            text += f"\n[output truncated: {done.output_bytes} bytes, first {len(done.output)} kept]"
        if done.timed_out:
            text += f"\n[killed: no exit within {limits.timeout_s:.0f}s]"
        if memory_hits.get("oom_kill") or memory_hits.get("failcnt"):
            text += f"\n[memory ceiling of {limits.memory_bytes >> 20} MB for the whole sandbox reached]"
        error = None
        if "status" in done.channels and b"child-pid" not in done.channels["status"]:
            error = f"the sandbox did not start (exit code {done.exit_code}): {text.strip()[-300:]}"
        disk = False
        if writable and error is None:
            used, _files = safefs.tree_size(self.root)
            if used > limits.disk_bytes:
                disk = True
                text += f"\n[disk budget exceeded: the workspace holds {used >> 20} MB, the limit is {limits.disk_bytes >> 20} MB]"
        return ShellResult(None if done.timed_out else done.exit_code, text, done.duration_s, truncated, done.timed_out,
                           done.output_bytes, error, mechanism, done.channels.get("result", b""), disk)

    @contextlib.contextmanager
    def lease(self, limits: Limits) -> Iterator[budget.Lease]:
        """This sandbox's budget for one command, with the workspace handed to its uid."""
        with budget.lease(limits.processes + 8, limits.memory_bytes, prefer=self.owner) as lease:
            self._own(lease.uid)
            yield lease

    def _own(self, uid: int | None) -> None:
        """Hand the workspace to this run's uid (files an earlier run's uid or the harness left)."""
        if uid is None or uid == self.owner:
            if uid is not None:
                safefs.chown_tree(self.root, uid, only_from={os.geteuid()})  # what the harness wrote since
            return
        safefs.chown_tree(self.root, uid)
        self.owner = uid

    def env(self) -> dict[str, str]:
        """Allow-listed: nothing from the parent but locale; never an API key."""
        base = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        path = ":".join(dict.fromkeys([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]))
        # git inside: the repository is the harness's (read-only), found where it is mounted whatever the workspace
        # holds; no user or system configuration, so a planted ~/.gitconfig (core.worktree, fsmonitor, ...) cannot
        # make a criterion's `git diff --quiet` look at another tree
        git = {"GIT_DIR": str(self.root / ".git"), "GIT_WORK_TREE": str(self.root)} if self._git is not None else {}
        # pytest on its own: the plugins installed beside the harness (pytest-timeout, anyio, ... and which of them
        # depends on the lock installed) are not the task's, so a criterion's or an agent's `pytest` loads none of
        # them: the same run under any install, ~0.2 s to start instead of ~0.6 s (a task's conftest.py still loads)
        return {**base, "PATH": path, "HOME": str(self.root), "TMPDIR": str(self.root / SCRATCH),
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                "LANG": base.get("LANG", "C.UTF-8"), **git,
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}

    def argv(self, command: str, limits: Limits, isolation: str, *, network: bool = False, keep: Sequence[Path] = (),
             env_extra: dict[str, str] | None = None, uid: int | None = None, writable: bool = True,
             status_fd: int | None = None, result_fd: int | None = None) -> list[str]:
        """The sandboxed command line. `network=True` (the pi harness must reach its endpoint) keeps the host's
        network namespace; `keep` adds read-only host folders (an installed harness)."""
        nproc = limits.processes if uid is not None else limits.processes + _own_process_count()
        inner = ["prlimit", f"--cpu={limits.cpu_s}", f"--as={limits.memory_bytes}", f"--fsize={limits.file_bytes}",
                 f"--nofile={limits.open_files}", f"--nproc={nproc}", "--"]
        if uid is not None:
            inner += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        env_extra = {**(env_extra or {}), **({"BV_RESULT_FD": str(result_fd)} if result_fd is not None else {})}
        if env_extra:  # set inside, after the scrubbed environment (bwrap passes the parent's through)
            inner += ["env", *[f"{k}={v}" for k, v in env_extra.items()]]
        inner += ["/bin/sh", "-c", command]
        if isolation == "none":
            return inner
        extra = [(self._git.git_dir, self.root / ".git")] if self._git is not None else []
        argv = [shutil.which("bwrap") or "bwrap", *([] if network else ["--unshare-net"]), "--unshare-pid",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                *(["--json-status-fd", str(status_fd)] if status_fd is not None else []),
                *mounts.bwrap_mounts(self.root, writable=writable, keep=list(keep), extra=extra),
                "--chdir", str(self.root)]
        return [*argv, "--", *inner]


def _harness_dir(dest: Path) -> Path:
    dest = Path(dest).resolve()
    return dest.parent / f".{dest.name}.harness"


def _owned(root: Path, rel: str, owners: set[int]) -> bool:
    try:
        return os.stat(root / rel, follow_symlinks=False).st_uid in owners
    except OSError:
        return False


def _own_process_count() -> int:
    import psutil

    uid = os.getuid()
    return sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid)


def _kill_uid(uid: int) -> None:
    """Without a PID namespace (`sandbox: none`), whatever the command left running under its uid."""
    import psutil

    for proc in psutil.process_iter(["uids"]):
        if proc.info["uids"] and proc.info["uids"].real == uid:
            kill_tree(proc.pid)

