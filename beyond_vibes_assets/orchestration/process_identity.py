"""Which process a run belongs to, by pid *and* start time: a pid alone can be reused by an unrelated process
after the run's worker died, and a reused pid must never pass for a live run (or be sent a signal)."""

from __future__ import annotations

import psutil

TOLERANCE_S = 1.0


def started_at(pid: int) -> float | None:
    """The process's start time (seconds since the epoch), None when it does not exist."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def alive(pid: int, started: float | None, *, not_after: bool = False) -> bool:
    """Whether `pid` is a live (not zombie) process started at `started` (exactly, within a second), or, with
    `not_after`, no later than `started` (a run's process was started before the run record was)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if started is None:
            return True
        born = proc.create_time()
        return born <= started + TOLERANCE_S if not_after else abs(born - started) <= TOLERANCE_S
    except psutil.Error:
        return False
