"""An optional in-process progress hook, so the CLI can draw a live [N/M] line for an asset it launched."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

Hook = Callable[[int, int, str], None]
_hooks: list[Hook] = []


@contextlib.contextmanager
def hook(fn: Hook) -> Iterator[None]:
    _hooks.append(fn)
    try:
        yield
    finally:
        _hooks.remove(fn)


def report(done: int, total: int, note: str) -> None:
    """Tell the hooks; then stop if a stop signal arrived. Dagster defers a signal that lands while it writes
    an event and then forgets it, so the work would run to its end: the wakeup fd (stop_signals) still holds
    the signal, and every completed item is a point where the command stops."""
    import dagster as dg

    from . import stop_signals

    for fn in list(_hooks):
        fn(done, total, note)
    if stop_signals.received() is not None:  # the same error Dagster raises for a signal: the run is marked failed
        raise dg.DagsterExecutionInterruptedError()
