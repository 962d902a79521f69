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


def test_a_nested_engine_in_one_thread_shares_the_slot_instead_of_waiting_on_itself(tmp_path, monkeypatch):
    """A pack's llm_judge items serve their local judge while the pack's variant still holds the slot: waiting
    would deadlock on our own flock. The inner engine shares the slot; another thread still waits."""
    import threading

    monkeypatch.setattr(machine_lock, "LOCK_DIR", tmp_path / "slots")
    monkeypatch.setenv("BEYOND_VIBES_ENGINE_SLOTS", "1")
    said, other = [], []
    with machine_lock.engine_lock("variant (pack_results)", 2, said.append) as outer:
        with machine_lock.engine_lock("judge-j (pack items)", 2, said.append) as inner:
            assert inner == outer == 0 and any("shares this process's engine slot 0" in s for s in said)
        thread = threading.Thread(target=lambda: other.append(machine_lock.holder(0)))
        thread.start()
        thread.join()
        waiter = threading.Thread(target=lambda: machine_lock.engine_lock("elsewhere", 2, other.append).__enter__())
        waiter.daemon = True
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive()  # another thread is not let in
    waiter.join(timeout=5)
    assert not waiter.is_alive() and other[0]["serves"] == "variant (pack_results)"
