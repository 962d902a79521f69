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
    for fn in list(_hooks):
        fn(done, total, note)
