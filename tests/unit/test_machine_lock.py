"""One machine, one engine at a time: a second command waits for the engine slot, says who holds it, and gets it
the moment the holder ends (issue 21: two engines on 2 cores measured each other, not the model)."""

import subprocess
import sys
import time

from beyond_vibes_assets.engine import machine_lock


def test_a_second_engine_waits_and_says_for_whom(tmp_path, monkeypatch):
    monkeypatch.setattr(machine_lock, "LOCK_DIR", tmp_path / "slots")
    monkeypatch.setattr(machine_lock, "SAY_EVERY_S", 0.2)
    monkeypatch.setenv("BEYOND_VIBES_ENGINE_SLOTS", "1")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib; sys.path.insert(0, sys.argv[1]);"
        "from beyond_vibes_assets.engine import machine_lock as m; m.LOCK_DIR = pathlib.Path(sys.argv[2]);"
        "cm = m.engine_lock('other~Q4~cpu (demo)', 2); cm.__enter__(); print('held', flush=True); time.sleep(2)"),
        str(machine_lock.Path(machine_lock.__file__).resolve().parents[2]), str(tmp_path / "slots")],
        stdout=subprocess.PIPE, text=True, env={"BEYOND_VIBES_ENGINE_SLOTS": "1", "PATH": "/usr/bin:/bin"})
    assert holder.stdout.readline().strip() == "held"
    said = []
    started = time.monotonic()
    with machine_lock.engine_lock("mine~Q4~cpu (pack_results)", 2, said.append) as slot:
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert slot == 0 and waited > 1.0
    assert any("held by pid" in s and "other~Q4~cpu (demo)" in s for s in said), said
    assert any("free after" in s for s in said)


def test_slots_follow_the_cores_and_the_override(monkeypatch):
    monkeypatch.delenv("BEYOND_VIBES_ENGINE_SLOTS", raising=False)
    monkeypatch.setattr(machine_lock.os, "cpu_count", lambda: 8)
    assert machine_lock.slots_for(2) == 4 and machine_lock.slots_for(None) == 1 and machine_lock.slots_for(16) == 1
    monkeypatch.setenv("BEYOND_VIBES_ENGINE_SLOTS", "3")
    assert machine_lock.slots_for(2) == 3
