"""Ctrl-C (SIGINT) and SIGTERM stop a CLI command as a whole, not just the run in flight.

Dagster swaps the SIGINT handler while it executes a run (it turns the signal into an interrupt of the
step, marks the run failed and returns), so the CLI cannot rely on its own handler being called. The
signal number is also written by Python's C-level handler to a wakeup fd whatever Python handler is
installed; the CLI reads that pipe after each run and stops with 128 + signal number.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):
    """A stop signal arrived; BaseException so no `except Exception` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_state: dict[str, int | None] = {"read_fd": None, "signum": None}


def _raise(signum: int, _frame: object) -> None:
    _state["signum"] = _state["signum"] or signum
    raise StopRequested(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM raise StopRequested, and `check()` reports any that Dagster caught."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    old_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _state.update(read_fd=read_fd, signum=None)
    for s in SIGNALS:
        signal.signal(s, _raise)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(old_fd)
        _state["read_fd"] = None
        os.close(read_fd)
        os.close(write_fd)


def received() -> int | None:
    """The first stop signal seen so far (by our handler or any other), else None."""
    fd = _state["read_fd"]
    if fd is not None:
        with contextlib.suppress(BlockingIOError, OSError):
            for byte in os.read(fd, 512):
                if byte in SIGNALS and _state["signum"] is None:
                    _state["signum"] = byte
    return _state["signum"]


def check() -> None:
    """Raise StopRequested if a stop signal arrived, e.g. while Dagster was executing a run."""
    signum = received()
    if signum is not None:
        raise StopRequested(signum)
