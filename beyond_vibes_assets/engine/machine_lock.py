"""One machine, one engine at a time (by default): a lock every local llama-server this platform starts holds while
it serves, shared by every process on the machine (two homes, a demo beside a benchmark, a test beside a run).

Two engines with 2 threads each on 2 cores ran at 1.4-1.7 tok/s instead of ~100 and timed items out: numbers that
measure the neighbour, not the model. The lock has as many slots as the cores allow engines (cores // threads of
the engine, at least one; `BEYOND_VIBES_ENGINE_SLOTS` overrides it); a flock per slot under /tmp, released when its
holder ends, however it ends. A waiting command says which process holds the slot and for what.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_DIR = Path("/tmp/beyond-vibes-engine-slots")
SAY_EVERY_S = 30.0


def slots_for(threads: int | None) -> int:
    """Engines this machine runs at once without starving each other."""
    from ..settings import settings

    override = settings().engine_slots
    if override:
        return override
    return max(1, (os.cpu_count() or 1) // max(1, threads or os.cpu_count() or 1))


def holder(slot: int) -> dict | None:
    """Who holds a slot, as its holder wrote it (pid, what it serves, since when)."""
    try:
        return json.loads((LOCK_DIR / f"{slot}.lock").read_text() or "null")
    except (OSError, json.JSONDecodeError):
        return None


_LOCAL = threading.local()  # the slots this thread holds, innermost last (`held`)


def _held() -> list[int]:
    if not hasattr(_LOCAL, "held"):
        _LOCAL.held = []
    return _LOCAL.held


@contextlib.contextmanager
def engine_lock(what: str, threads: int | None, log: Callable[[str], None] = print) -> Iterator[int]:
    """Hold one of the machine's engine slots for the block (waiting, and saying for whom, while all are taken).

    Nested in one thread (a pack's llm_judge items served their judge while the pack's variant still serves), the
    inner engine shares the outer one's slot instead of waiting on it forever: the judge scores what the variant
    already generated, so the two never compute at once."""
    held = _held()
    if held:
        log(f"{what} shares this process's engine slot {held[-1]} (it runs only between the other's requests)")
    with contextlib.nullcontext(held[-1]) if held else _claim(what, threads, log) as slot:
        held.append(slot)
        try:
            yield slot
        finally:
            held.pop()


@contextlib.contextmanager
def _claim(what: str, threads: int | None, log: Callable[[str], None]) -> Iterator[int]:
    """A free slot's flock for the block, waiting (and saying for whom) while every slot is held."""
    LOCK_DIR.mkdir(mode=0o777, parents=True, exist_ok=True)
    slots = slots_for(threads)
    waited, said = 0.0, -SAY_EVERY_S
    started = time.monotonic()
    while True:
        for slot in range(slots):
            fd = os.open(LOCK_DIR / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps({"pid": os.getpid(), "serves": what, "since": time.time()}).encode(), 0)
                if waited:
                    log(f"engine slot {slot} free after {waited:.0f}s; serving {what}")
                yield slot
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                os.close(fd)
            return
        waited = time.monotonic() - started
        if waited - said >= SAY_EVERY_S:
            said = waited
            holders = [h for h in (holder(s) for s in range(slots)) if h]
            log(f"waiting for the machine's engine slot ({slots} on {os.cpu_count()} cores) to serve {what}: held by "
                + ("; ".join(f"pid {h.get('pid')} serving {h.get('serves')}" for h in holders) or "another process")
                + " (one engine at a time keeps speed figures honest; BEYOND_VIBES_ENGINE_SLOTS raises it)")
        time.sleep(0.2)
