"""One thread pool for work that runs side by side (sandboxed verdicts, mutants, sim attempts, judge calls): its exit
drops the calls not yet started, so a stop signal ends a run after the calls already running, not after every queued
one (a plain `with ThreadPoolExecutor()` around `submit` calls waits for all of them). One home, so a new user of a
pool cannot forget the cancel."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor


@contextlib.contextmanager
def cancelling_pool(workers: int | None = None) -> Iterator[ThreadPoolExecutor]:
    """A pool of `workers` threads (one per core by default) that cancels its unstarted calls on the way out."""
    pool = ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
