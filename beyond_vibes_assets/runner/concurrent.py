"""Run request tasks together; when one fails or the run is interrupted, cancel the rest before anything closes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def gather_or_cancel(jobs: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """asyncio.gather that cancels what is still in flight on the way out (Ctrl-C, a failed task), so the HTTP
    client the jobs share closes only after them and an unfinished call leaves no record, not a bogus
    "connection lost" failure."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
