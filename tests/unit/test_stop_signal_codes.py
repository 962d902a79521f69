"""A real SIGTERM (and SIGINT) to a real process inside `stop_on_signals` ends it with 128 + the signal number, the
CLI's exit code. Replaces the SIGTERM run of tests/e2e/test_stop_signal.py (same path, the engine adds nothing)."""

import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import sys, time
from beyond_vibes_assets.runner import stop_signals
try:
    with stop_signals.stop_on_signals():
        print("ready", flush=True)
        time.sleep(30)
except stop_signals.StopRequested as exc:
    sys.exit(exc.exit_code)
"""


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_the_block_with_128_plus_its_number(signum, code):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.send_signal(signum)
    assert proc.wait(timeout=10) == code and time.monotonic() - started < 5
