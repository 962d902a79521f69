"""The episode workspace and the sandbox its shell commands run in.

A workspace is a fresh copy of a sim's fixture, made a git repository with one commit so the diff of an
episode is exact. Shell commands run under bubblewrap: no network (own network namespace: the host's
127.0.0.1 listeners are unreachable), own PID namespace (only the sandbox's processes in /proc), a
read-only view of the system with the checkout, the platform's home and other users' homes hidden, the
workspace the only writable place besides a private /tmp, an allow-listed environment (no API keys;
HOME and TMPDIR inside the workspace), resource limits (CPU seconds, address space, file size, open
files, processes: as root the command drops to an unprivileged uid so the process limit bites), a
wall-clock timeout that kills the whole process group, and output truncated to a bound.

Where bubblewrap is missing the shell refuses to run, unless the task opts out with `sandbox: none`
(limits and environment still apply; the episode records that it ran without isolation).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..settings import REPO_ROOT, home

SANDBOX_UID = 65534  # nobody: owns (almost) no other process, so RLIMIT_NPROC bounds a fork bomb
GIT_ENV = {"GIT_AUTHOR_NAME": "fixture", "GIT_AUTHOR_EMAIL": "fixture@beyond-vibes.invalid",
           "GIT_COMMITTER_NAME": "fixture", "GIT_COMMITTER_EMAIL": "fixture@beyond-vibes.invalid",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
PASS_ENV = ("LANG", "LC_ALL", "TZ")


class SandboxUnavailable(RuntimeError):
    """Isolation cannot be set up here and the task did not opt out of it."""


class PathRefused(ValueError):
    """A file-tool path that would leave the workspace."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 120.0
    cpu_s: int = 120
    memory_bytes: int = 4 << 30  # address space; Python and pytest need a few hundred MB of it
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 128
    output_bytes: int = 32_000


@dataclass(frozen=True)
class ShellResult:
    exit_code: int | None
    output: str
    duration_s: float
    truncated: bool = False
    timed_out: bool = False
    output_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@functools.lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """None when bubblewrap can build the sandbox here, else why not (checked once, with a real run)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (deploy/install.sh does it)"
    probe = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/",
                            "--dev", "/dev", "--proc", "/proc", "--", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return None


def _hidden_roots() -> list[Path]:
    """Host folders the sandbox must not read: the checkout (other sims' reference solutions), the platform's
    home (stored answers, warehouse), user homes."""
    roots = [Path("/root"), Path("/home"), REPO_ROOT, home()]
    return [r for r in dict.fromkeys(p.resolve() for p in roots) if r.exists()]


def _python_paths() -> list[Path]:
    """Interpreter and venv folders the sandboxed `python` needs, re-exposed read-only under hidden roots."""
    return [p for p in dict.fromkeys(Path(x).resolve() for x in (sys.base_prefix, sys.prefix)) if p.exists()]


class Workspace:
    def __init__(self, root: Path, base: str = "HEAD"):
        self.root = Path(root).resolve()
        self.base = base  # the fixture commit every diff is taken against

    @classmethod
    def create(cls, fixture: Path, dest: Path) -> Workspace:
        """A fresh copy of `fixture` at `dest`, committed once; owned by the sandbox user when we are root."""
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(fixture, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
        ws = cls(dest)
        ws.git("init", "-q", "-b", "main")
        (ws.root / ".git" / "info").mkdir(parents=True, exist_ok=True)
        (ws.root / ".git" / "info" / "exclude").write_text(".tmp/\n")  # scratch space, never part of the diff
        ws.git("add", "-A")
        ws.git("commit", "-q", "--allow-empty", "-m", "fixture")
        ws.base = ws.git("rev-parse", "HEAD").strip()
        (ws.root / ".tmp").mkdir(exist_ok=True)  # TMPDIR of sandboxed commands
        ws.hand_over(ws.root)
        return ws

    def git(self, *args: str) -> str:
        """git as the harness (not sandboxed): the workspace may be owned by the sandbox user."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), **GIT_ENV}
        done = subprocess.run(["git", "-c", "safe.directory=*", "-c", "core.hooksPath=/dev/null", *args],
                              cwd=self.root, env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()[:500]}")
        return done.stdout

    def hand_over(self, path: Path) -> None:
        """Make files the harness wrote writable for the sandboxed shell (it runs as SANDBOX_UID under root)."""
        if os.geteuid() != 0:
            return
        targets = [path] if path.is_file() else [path, *path.rglob("*")]
        for p in targets:
            # .git stays the harness's: the sandboxed shell cannot rewrite the baseline the diff is taken against
            if not p.is_symlink() and ".git" not in p.relative_to(self.root).parts:
                os.chown(p, SANDBOX_UID, SANDBOX_UID)

    def resolve(self, relative: str) -> Path:
        """The host path of a workspace-relative path; refuses absolute paths, '..' and symlinks that leave."""
        if not isinstance(relative, str) or not relative.strip():
            raise PathRefused("path must be a non-empty string relative to the repository root")
        rel = relative.strip()
        if rel.startswith(("/", "~")) or Path(rel).is_absolute():
            raise PathRefused(f"absolute paths are refused: {rel!r}; use a path relative to the repository root")
        if ".." in Path(rel).parts:
            raise PathRefused(f"'..' is refused: {rel!r} would leave the repository")
        target = (self.root / rel).resolve()  # follows symlinks, so one pointing outside is caught here
        if target != self.root and self.root not in target.parents:
            raise PathRefused(f"{rel!r} resolves outside the repository (a symlink?)")
        if ".git" in target.relative_to(self.root).parts:
            raise PathRefused("the .git folder is off limits to file tools")
        return target

    def diff(self) -> str:
        """The episode's change against the fixture commit, new files included."""
        self.git("add", "-A", "--intent-to-add")
        return self.git("diff", "--no-color", self.base)

    def changed_files(self, diff: str | None = None) -> list[str]:
        """Paths the episode changed (from `diff` when the caller already has it: one git call less)."""
        text = self.diff() if diff is None else diff
        return [line.split(" b/", 1)[1] for line in text.splitlines() if line.startswith("diff --git ") and " b/" in line]

    def run(self, command: str, limits: Limits = Limits(), isolation: str = "bubblewrap") -> ShellResult:
        """Run a shell command in the sandbox with the workspace as working directory."""
        argv = self.argv(command, limits, isolation)
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.root, env=self.env(), process_group=0)
        kept, total = bytearray(), [0]

        def drain() -> None:  # keep the first bytes, count and discard the rest (a 1 GB output costs no memory)
            assert proc.stdout is not None
            while chunk := proc.stdout.read(65536):
                total[0] += len(chunk)
                room = limits.output_bytes - len(kept)
                if room > 0:
                    kept.extend(chunk[:room])

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc)
        reader.join(timeout=5)
        text = kept.decode("utf-8", "replace")
        truncated = total[0] > len(kept)
        if truncated:
            text += f"\n[output truncated: {total[0]} bytes, first {len(kept)} kept]"
        if timed_out:
            text += f"\n[killed: no exit within {limits.timeout_s:.0f}s]"
        return ShellResult(None if timed_out else proc.returncode, text, time.perf_counter() - started,
                           truncated, timed_out, total[0])

    def env(self) -> dict[str, str]:
        """Allow-listed: nothing from the parent but locale; never an API key."""
        base = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        path = ":".join(dict.fromkeys([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]))
        return {**base, "PATH": path, "HOME": str(self.root), "TMPDIR": str(self.root / ".tmp"),
                "PYTHONDONTWRITEBYTECODE": "1", "GIT_CONFIG_NOSYSTEM": "1", "LANG": base.get("LANG", "C.UTF-8"),
                # the repository's .git belongs to the harness; let the sandbox user read it
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}

    def argv(self, command: str, limits: Limits, isolation: str, *, network: bool = False, keep: list[Path] = (),
             env_extra: dict[str, str] | None = None) -> list[str]:
        """The sandboxed command line. `network=True` (the pi harness must reach its endpoint) keeps the host's
        network namespace; `keep` re-exposes read-only folders under hidden roots (an installed harness)."""
        as_root = os.geteuid() == 0
        nproc = limits.processes if as_root else limits.processes + _own_process_count()
        inner = ["prlimit", f"--cpu={limits.cpu_s}", f"--as={limits.memory_bytes}", f"--fsize={limits.file_bytes}",
                 f"--nofile={limits.open_files}", f"--nproc={nproc}", "--"]
        if as_root:
            inner += ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "--"]
        if env_extra:  # set inside, after the scrubbed environment (bwrap passes the parent's through)
            inner += ["env", *[f"{k}={v}" for k, v in env_extra.items()]]
        inner += ["/bin/sh", "-c", command]
        if isolation == "none":
            return inner
        problem = isolation_problem()
        if problem:
            raise SandboxUnavailable(f"{problem}. Or set 'sandbox: none' in the sim's task.yaml to run without "
                                     "isolation (the episode and the report will say so).")
        argv = [shutil.which("bwrap") or "bwrap", *([] if network else ["--unshare-net"]), "--unshare-pid",
                "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
                "--dev", "/dev", "--proc", "/proc"]
        scratch = [Path("/tmp"), Path("/var/tmp"), Path("/run")]
        for tmp in scratch:
            argv += ["--perms", "1777", "--tmpfs", str(tmp)]
        hidden = _hidden_roots()
        for root in hidden:
            argv += ["--perms", "0755", "--tmpfs", str(root)]
        covered = scratch + hidden
        made: set[Path] = set()
        keeps = [*_python_paths(), *(Path(k).resolve() for k in keep)]
        for target, mode in [*((p, "--ro-bind") for p in keeps), (self.root, "--bind")]:
            for parent in reversed(target.parents):  # bwrap would create these 0700: the sandbox user could not pass
                if parent not in made and any(parent != c and c in parent.parents for c in covered):
                    argv += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            argv += [mode, str(target), str(target)]
        argv += ["--chdir", str(self.root)]
        return [*argv, "--", *inner]


def _own_process_count() -> int:
    import psutil

    uid = os.getuid()
    return sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid)


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
    except ProcessLookupError:
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(descendants, timeout=10)


def _kill_group(proc: subprocess.Popen) -> None:
    kill_tree(proc.pid)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
