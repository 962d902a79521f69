"""What a sandbox sees of the host: an allow-list, never `/` minus a deny-list.

A sandboxed command gets the system directories a command needs (/usr and the merged-/usr links, /etc), the
Python interpreter it runs with and its libraries, read-only; a private /dev, /proc and fresh tmpfs /tmp and
/var/tmp of a fixed size; the workspace read-write (or read-only); and nothing else of the host's filesystem
(no checkout, no platform home, no user homes, no other copies of the repository wherever they lie).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/etc")
MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
TMP_BYTES = 256 << 20


def interpreter_paths() -> list[Path]:
    """The interpreter, its standard library and the venv's site-packages (not under /usr on every machine)."""
    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent]
    return [p for p in dict.fromkeys(x.resolve() for x in paths) if p.exists()]


def _covered(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def bwrap_mounts(workspace: Path | None, *, writable: bool = True, keep: Sequence[Path] = (),
                 extra: Sequence[tuple[Path, Path]] = (),
                 tmp_bytes: int = TMP_BYTES) -> list[str]:
    """bwrap arguments for the allow-listed view; `keep` adds read-only host folders (an installed agent),
    `extra` read-only (host path, sandbox path) pairs (the episode's git directory at <workspace>/.git)."""
    args: list[str] = []
    bound: list[Path] = []
    for name in MERGED_USR:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
            bound.append(path)
    for name in SYSTEM_DIRS:
        if Path(name).is_dir():
            args += ["--ro-bind", name, name]
            bound.append(Path(name))
    args += ["--dev", "/dev", "--proc", "/proc"]
    for tmp in ("/tmp", "/var/tmp"):
        args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", tmp]
    made: set[Path] = {Path("/"), Path("/tmp"), Path("/var/tmp"), Path("/dev"), Path("/proc")}
    targets = [(p, p, "--ro-bind") for p in [*interpreter_paths(), *(Path(k).resolve() for k in keep)]
               if not _covered(p, bound)]
    if workspace is not None:
        targets.append((workspace, workspace, "--bind" if writable else "--ro-bind"))
    targets += [(src, dest, "--ro-bind") for src, dest in extra]
    for src, dest, mode in targets:
        for parent in reversed(dest.parents):  # made 0755 so the sandbox user can pass through them
            if parent not in made and not _covered(parent, bound):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += [mode, str(src), str(dest)]
        made.add(dest)
    return args
