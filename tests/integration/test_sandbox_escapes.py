"""The escape suite: attempts to leave the workspace through every tool, with the real bubblewrap sandbox.

Each attempt must end as a refused or failed tool call (never an exception), and a host-side check must
find no trace of it: no file outside, no canary key in any output, no connection to a host listener.
"""

import os
import socket
import threading
import time

import psutil
import pytest

from beyond_vibes_assets.sandbox import Limits, Workspace, isolation_problem
from beyond_vibes_assets.agent.tools import TOOLS_ALL, Toolbox
from beyond_vibes_assets.settings import REPO_ROOT

pytestmark = pytest.mark.integration
CANARY = "sk-canary-" + "5be1d2c3a4f60718" * 2


@pytest.fixture()
def box(tmp_path, monkeypatch, home):
    if isolation_problem():
        pytest.fail(f"the sandbox is required here: {isolation_problem()}")
    monkeypatch.setenv("BV_SANDBOX_CANARY", CANARY)
    fixture = tmp_path / "fixture"
    (fixture / "src").mkdir(parents=True)
    (fixture / "src" / "app.py").write_text("print('hi')\n")
    ws = Workspace.create(fixture, home / "workspaces" / "episode")
    return Toolbox(ws, TOOLS_ALL, Limits(timeout_s=8, cpu_s=10))


def test_escape_attempts_are_all_refused_or_contained(box, tmp_path):
    ws, outside = box.ws, tmp_path / "outside"
    outside.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def accept():
        end = time.monotonic() + 60
        while time.monotonic() < end and not accepted:
            try:
                accepted.append(listener.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    attempts = [
        ("absolute path read", "read_file", {"path": "/etc/passwd"}, lambda r: "root:" in r.output),
        ("dot-dot read", "read_file", {"path": "../../../etc/hostname"}, lambda r: r.ok),
        ("dot-dot inside a path", "read_file", {"path": "src/../../outside"}, lambda r: r.ok),
        ("absolute write", "write_file", {"path": str(outside / "a.txt"), "content": "x"},
         lambda r: (outside / "a.txt").exists()),
        ("dot-dot write", "write_file", {"path": "../escaped.txt", "content": "x"},
         lambda r: (ws.root.parent / "escaped.txt").exists()),
        ("edit .git", "edit_file", {"path": ".git/HEAD", "old": "ref", "new": "xx"}, lambda r: r.ok),
        ("search from /", "search", {"pattern": "root", "path": "/etc"}, lambda r: r.ok),
        ("symlink made by the shell, read by a file tool", "run+read", "ln -s /etc/passwd link",
         lambda r: "root:" in r.output),
        ("symlinked folder listed", "run+list", "ln -s / rootdir", lambda r: "etc/passwd" in r.output),
        ("own environment", "run", "cat /proc/self/environ; env", lambda r: CANARY in r.output),
        ("pid 1 environment", "run", "cat /proc/1/environ", lambda r: CANARY in r.output),
        ("host processes", "run", "ls /proc | grep -c '^[0-9]'", lambda r: r.ok and int(r.output.split()[-1] or 0) > 20),
        ("connect to a host listener on 127.0.0.1", "run",
         f"python -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)\"",
         lambda r: bool(accepted)),
        ("write outside through the shell", "run", f"echo x > {outside}/b.txt", lambda r: (outside / "b.txt").exists()),
        ("write to the system", "run", "echo x > /etc/beyond-vibes-escape", lambda r: os.path.exists("/etc/beyond-vibes-escape")),
        ("read other sims' reference solutions", "run", f"cat {REPO_ROOT}/sims/*/reference/answer.md",
         lambda r: "Recommendation" in r.output),
        ("read the platform's home", "run", f"ls {ws.root.parent.parent}/warehouse {REPO_ROOT}/.beyond_vibes", lambda r: r.ok),
        ("become root again", "run", "id -u; su -c id 2>&1; sudo id 2>&1", lambda r: r.output.splitlines()[1:2] == ["0"] or "uid=0" in r.output),
        ("fork bomb", "run", "bomb() { bomb | bomb & }; bomb", lambda r: False),
        ("1 GB of output", "run", "head -c 1000000000 /dev/zero | tr '\\0' a", lambda r: len(r.output) > 100_000),
        ("a file past the size limit", "run", "head -c 200000000 /dev/zero > big.bin",
         lambda r: (ws.root / "big.bin").exists() and (ws.root / "big.bin").stat().st_size > Limits().file_bytes),
        ("outlive the timeout", "run", "sleep 60 & sleep 60", lambda r: not r.ok and False),
    ]
    escapes, results = [], {}
    for label, tool, args, escaped in attempts:
        if tool == "run+read":
            box.call("run", {"command": args})
            result = box.call("read_file", {"path": "link"})
        elif tool == "run+list":
            box.call("run", {"command": args})
            result = box.call("list_files", {"path": "rootdir"})
        elif tool == "run":
            result = box.call("run", {"command": args})
        else:
            result = box.call(tool, args)
        results[label] = result
        if escaped(result):
            escapes.append(label)
    listener.close()
    assert len(attempts) >= 15
    assert escapes == [], escapes
    refused = {k: r for k, r in results.items() if r.error_kind == "refused"}
    assert {"absolute path read", "dot-dot read", "dot-dot write", "edit .git", "search from /",
            "symlink made by the shell, read by a file tool", "symlinked folder listed"} <= set(refused)
    assert results["1 GB of output"].output.endswith("kept]") or "output truncated" in results["1 GB of output"].output
    assert results["outlive the timeout"].error_kind == "timeout"
    if os.geteuid() == 0:  # as root, sandboxed commands run as an unprivileged uid (so the process limit bites)
        from beyond_vibes_assets.sandbox.budget import UID_BASE, UID_POOL

        assert UID_BASE <= int(results["become root again"].output.splitlines()[1]) < UID_BASE + UID_POOL
    assert not [p for p in psutil.process_iter(["cmdline"]) if "bomb" in " ".join(p.info["cmdline"] or [])]
    assert not [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [""])[:2] == ["sleep", "60"]]
    assert box.call("run", {"command": "echo still usable"}).output.strip().endswith("still usable")


def test_opting_out_of_isolation_still_scrubs_the_environment_and_applies_limits(tmp_path, monkeypatch, home):
    """`sandbox: none` (a task's explicit opt-out) runs without namespaces, never with the parent's secrets."""
    monkeypatch.setenv("BV_SANDBOX_CANARY", CANARY)
    fixture = tmp_path / "fixture"
    fixture.mkdir()
    (fixture / "a.txt").write_text("a\n")
    ws = Workspace.create(fixture, home / "workspaces" / "optout")
    result = ws.run("env; ulimit -f", Limits(timeout_s=10), isolation="none")
    assert result.ok and CANARY not in result.output
    assert str(Limits().file_bytes // 512) in result.output  # ulimit -f reports 512-byte blocks
    too_big = ws.run("head -c 100000000 /dev/zero > big.bin", Limits(timeout_s=10, file_bytes=1 << 20), isolation="none")
    assert not too_big.ok and (ws.root / "big.bin").stat().st_size <= 1 << 20
