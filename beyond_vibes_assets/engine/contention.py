"""How much of the machine other processes took while a run generated: the sign that its speed figures
(and any timeouts) are not the engine's own.

CPU time of every process on the machine minus that of this process and its children (the llama-server, the
sandboxes), over the wall time of the run times the CPU count. Comparing decode speed with the probe cannot
tell this apart from a pack's long prompts (prefill of one slot slows the other slot's decode), so the flag
rests on the measured load itself; decode-vs-probe is recorded beside it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil


def _own_cpu() -> float:
    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def _busy() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0) + getattr(t, "steal", 0.0)


def foreign_engines() -> list[str]:
    """llama-server processes on the machine that are not this process's: another command's engine, the most
    common reason a run was slowed."""
    mine = {p.pid for p in psutil.Process().children(recursive=True)}
    out = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        cmd = proc.info["cmdline"] or []
        if proc.info["pid"] not in mine and (proc.info["name"] == "llama-server" or (cmd and cmd[0].endswith("llama-server"))):
            model = next((cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a in ("--model", "-m")), "?")
            out.append(f"llama-server pid {proc.info['pid']} ({Path(model).name})")
    return out


def foreign_load_note(share: float | None) -> str | None:
    """What else was running, said in words, when a run was slowed: foreign engines and the load average."""
    if share is None:
        return None
    engines = foreign_engines()
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return "; ".join([*engines, f"load {load:.2f} per core"])


class CpuMeter:
    """meter = CpuMeter(); ...work...; meter.foreign_share() -> share of the machine's CPU others used."""

    def __init__(self) -> None:
        self.started, self.busy, self.own = time.monotonic(), _busy(), _own_cpu()

    def foreign_share(self) -> float | None:
        wall = time.monotonic() - self.started
        if wall < 0.5:
            return None  # too short to say anything
        foreign = (_busy() - self.busy) - (_own_cpu() - self.own)
        return round(max(0.0, foreign) / (wall * (os.cpu_count() or 1)), 3)
