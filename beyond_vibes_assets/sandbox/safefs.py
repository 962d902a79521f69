"""File access inside a tree that untrusted code has written, without ever following a link.

Every path is opened component by component from a directory descriptor with O_NOFOLLOW, so a symlink at any
component (a folder link, a link planted after a check, a loop) is refused, never resolved; only regular files
are read or written (a FIFO, a socket or a device is refused before any read, and opens are non-blocking, so
nothing blocks the harness); every read is bounded. The walkers skip what they cannot read instead of raising.
Pure standard library: the read-back helper runs this module in a small interpreter as the sandbox user.
"""

from __future__ import annotations

import errno
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


class Refused(ValueError):
    """A path or file the harness will not touch (a link, a non-regular file, too big, a bad name)."""


def parts_of(relative: str) -> list[str]:
    """The components of a workspace-relative path; refuses absolute paths, '..', NUL bytes and bad text."""
    if not isinstance(relative, str) or not relative.strip():
        raise Refused("path must be a non-empty string relative to the repository root")
    rel = relative.strip()
    if "\x00" in rel:
        raise Refused("a NUL byte in a path is refused")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused("the path is not valid UTF-8 text") from None
    if rel.startswith(("/", "~")):
        raise Refused(f"absolute paths are refused: {rel!r}; use a path relative to the repository root")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Refused(f"'..' is refused: {rel!r} would leave the repository")
    return parts


def open_dir(root: str | os.PathLike, parts: list[str], *, create: bool = False, mode: int = 0o755) -> int:
    """A descriptor of root/parts... opened without following any link (created when `create`)."""
    fd = os.open(root, DIR_FLAGS)
    try:
        for part in parts:
            try:
                nxt = os.open(part, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, mode, dir_fd=fd)
                nxt = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Refused(f"{part!r} is a link or not a folder; links are never followed") from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_regular(dir_fd: int, name: str, flags: int, create_mode: int | None = None) -> int:
    try:
        fd = os.open(name, FILE_FLAGS | flags, create_mode if create_mode is not None else 0o644, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{name!r} is a symbolic link; links are never followed") from None
        if exc.errno == errno.ENXIO:
            raise Refused(f"{name!r} is not a regular file (a FIFO or socket)") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, socket or device)"
        raise IsADirectoryError(name) if stat.S_ISDIR(info.st_mode) else Refused(f"{name!r} is {kind}")
    if info.st_nlink > 1 and flags & (os.O_WRONLY | os.O_RDWR):
        os.close(fd)
        raise Refused(f"{name!r} has other hard links; the harness does not write through them")
    os.set_blocking(fd, True)
    return fd


def read_bytes(root: str | os.PathLike, relative: str, max_bytes: int) -> tuple[bytes, int]:
    """(the first max_bytes of a regular file, its size); links and non-regular files are refused."""
    parts = parts_of(relative)
    dir_fd = open_dir(root, parts[:-1])
    try:
        fd = _open_regular(dir_fd, parts[-1], os.O_RDONLY) if parts else None
    finally:
        os.close(dir_fd)
    if fd is None:
        raise IsADirectoryError(relative)
    try:
        size = os.fstat(fd).st_size
        return _read_fd(fd, max_bytes), size
    finally:
        os.close(fd)


def _read_fd(fd: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_bytes(root: str | os.PathLike, relative: str, data: bytes, *, owner: int | None = None) -> None:
    """Create or overwrite a regular file (parents created); never through a link, FIFO or hard link."""
    parts = parts_of(relative)
    if not parts:
        raise IsADirectoryError(relative)
    dir_fd = open_dir(root, parts[:-1], create=True)
    try:
        fd = _open_regular(dir_fd, parts[-1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if owner is not None:
                os.fchown(fd, owner, owner)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def exists(root: str | os.PathLike, relative: str) -> str | None:
    """'file', 'dir', 'other' (a link or special file, never followed) or None."""
    parts = parts_of(relative)
    try:
        dir_fd = open_dir(root, parts[:-1])
    except (OSError, Refused):
        return None
    try:
        info = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False) if parts else os.fstat(dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    return "file" if stat.S_ISREG(info.st_mode) else "dir" if stat.S_ISDIR(info.st_mode) else "other"


def walk(root: str | os.PathLike, *, skip_top: frozenset[str] = frozenset(), skip_any: frozenset[str] = frozenset({".git"}),
         max_entries: int = 20_000):
    """Yield (relative path, dir_fd, name, stat) for every regular file under root, links never followed, at most
    max_entries directory entries looked at. The dir_fd is valid only until the next item."""
    seen = 0
    stack: list[tuple[int, str]] = [(os.open(root, DIR_FLAGS), "")]
    try:
        while stack:
            fd, prefix = stack.pop()
            try:
                with os.scandir(fd) as entries:
                    names = sorted(e.name for e in entries)
                for name in names:
                    seen += 1
                    if seen > max_entries:
                        return
                    if name in skip_any or (not prefix and name in skip_top):
                        continue
                    try:
                        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                    rel = f"{prefix}{name}"
                    if stat.S_ISDIR(info.st_mode):
                        try:
                            stack.append((os.open(name, DIR_FLAGS, dir_fd=fd), rel + "/"))
                        except OSError:
                            continue
                    elif stat.S_ISREG(info.st_mode):
                        yield rel, fd, name, info
            finally:
                os.close(fd)
    finally:
        for fd, _ in stack:
            os.close(fd)


def read_tree(root: str | os.PathLike, *, max_file_bytes: int = 200_000, max_total_bytes: int = 8 << 20,
              max_entries: int = 20_000, skip_top: frozenset[str] = frozenset({".tmp"}),
              skip_any: frozenset[str] = frozenset({".git"})) -> dict[str, bytes | None]:
    """{relative path: content} of every regular file under root (None for a file over max_file_bytes or past
    the total budget): the read-back of what a sandboxed command left behind."""
    out: dict[str, bytes | None] = {}
    total = 0
    for rel, dir_fd, name, info in walk(root, skip_top=skip_top, skip_any=skip_any, max_entries=max_entries):
        if info.st_size > max_file_bytes or total + info.st_size > max_total_bytes:
            out[rel] = None
            continue
        try:
            fd = _open_regular(dir_fd, name, os.O_RDONLY)
        except (OSError, Refused):
            continue
        try:
            data = _read_fd(fd, max_file_bytes + 1)
        finally:
            os.close(fd)
        if len(data) > max_file_bytes:
            out[rel] = None
            continue
        total += len(data)
        out[rel] = data
    return out


def tree_size(root: str | os.PathLike, max_entries: int = 200_000) -> tuple[int, int]:
    """(bytes, files) of the regular files under root (allocated blocks, so sparse files count as written)."""
    size = files = 0
    for _rel, _fd, _name, info in walk(root, skip_any=frozenset(), max_entries=max_entries):
        size += getattr(info, "st_blocks", 0) * 512 or info.st_size
        files += 1
    return size, files


def chown_tree(root: str | os.PathLike, uid: int, *, only_from: set[int] | None = None) -> None:
    """lchown every entry under root (root included) to uid, links never followed; `only_from` limits it to
    entries owned by those uids (files the harness or an earlier sandbox user left)."""
    def wanted(info: os.stat_result) -> bool:
        return info.st_uid != uid and (only_from is None or info.st_uid in only_from)

    top = os.open(root, DIR_FLAGS)
    try:
        if wanted(os.fstat(top)):
            os.fchown(top, uid, uid)
    finally:
        os.close(top)
    stack: list[int] = [os.open(root, DIR_FLAGS)]
    while stack:
        fd = stack.pop()
        try:
            with os.scandir(fd) as entries:
                names = [e.name for e in entries]
            for name in names:
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    if wanted(info):
                        os.chown(name, uid, uid, dir_fd=fd, follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(os.open(name, DIR_FLAGS, dir_fd=fd))
                except OSError:
                    continue
        finally:
            os.close(fd)
