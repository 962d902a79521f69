"""The escape suite: hostile code tries to leave its box through every path the harness offers, with the real
bubblewrap sandbox, the real tools, the harness's own git and the execution verifiers' read-backs.

Each attempt must end as a refused or failed tool call (never an exception, never a hang), and a host-side
check must find no trace of it: no file outside, no command run by the harness, no canary key in any output,
no connection to a host listener, no other sandbox starved. Grouped by the findings of issue 20: the harness's
git (1), read-backs (2), tools that raise or hang (3), one budget per sandbox (4), the allow-list of mounts (5).
Verdict forging (6) is tests/integration/test_scoring_hacks.py.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from beyond_vibes_assets.agent.tools import TOOLS_ALL, Toolbox
from beyond_vibes_assets.sandbox import Limits, Workspace, budget, isolation_problem
from beyond_vibes_assets.scoring import sandboxed
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
    (fixture / "data.txt").write_text("a\nb\n")
    ws = Workspace.create(fixture, home / "workspaces" / "episode")
    yield Toolbox(ws, TOOLS_ALL, Limits(timeout_s=8, cpu_s=10))
    ws.remove()


@pytest.fixture()
def marker(tmp_path):
    """A host path that exists only if a command the workspace planted ran on the host, outside the sandbox."""
    path = tmp_path / f"ran-on-host-{uuid.uuid4().hex[:8]}"
    yield path
    assert not path.exists(), f"a planted command ran on the host: {path.read_text()[:200]}"


def run(box, command):
    return box.call("run", {"command": command})


def write(box, path, content):
    result = box.call("write_file", {"path": path, "content": content})
    assert result.ok, result.output
    return result


# --- 1. the harness's git cannot be steered by the workspace -------------------------------------------------

PLANTS = {
    "~/.gitconfig fsmonitor": {".gitconfig": "[core]\n\tfsmonitor = \"sh -c 'env > {m}' #\"\n"},
    "~/.gitconfig pager and external diff": {
        ".gitconfig": "[core]\n\tpager = sh -c 'env > {m}'\n[diff]\n\texternal = sh -c 'env > {m}'\n"},
    "~/.gitconfig hooksPath": {".gitconfig": "[core]\n\thooksPath = hooks\n",
                               "hooks/post-index-change": "#!/bin/sh\nenv > {m}\n"},
    "XDG config filter + worktree .gitattributes": {
        ".config/git/config": "[filter \"x\"]\n\tclean = sh -c 'env > {m}; cat'\n\trequired = true\n",
        ".gitattributes": "* filter=x\n"},
    "XDG attributes + textconv": {".config/git/attributes": "* diff=x\n",
                                  ".gitconfig": "[diff \"x\"]\n\ttextconv = sh -c 'env > {m}; cat'\n"},
    "worktree .gitattributes hides a change as binary": {".gitattributes": "*.py -diff\n"},
    ".gitignore hides a new file": {".gitignore": "*\n"},
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_planted_git_configuration_runs_nothing_and_hides_nothing(box, marker, plant):
    for path, text in PLANTS[plant].items():
        write(box, path, text.format(m=marker))
    run(box, "chmod +x hooks/post-index-change 2>/dev/null; echo changed >> src/app.py; echo new > added.py")
    diff = box.ws.diff()
    assert "+changed" in diff and "+new" in diff and "Binary files" not in diff
    assert "added.py" in box.ws.changed_files(diff)
    assert CANARY not in diff


def test_the_git_directory_is_the_harness_s_and_read_only_inside(box, marker, tmp_path):
    """The sandbox user can neither rewrite the repository, nor rename it away and plant its own (core.worktree
    at another folder, a gitfile pointing at another episode's git directory)."""
    other = tmp_path / "other-episode"
    (other / "secret").mkdir(parents=True)
    (other / "secret" / "answer.md").write_text("the reference solution\n")
    attempts = {
        "write a hook": "echo 'env > /x' > .git/hooks/pre-commit && echo WROTE",
        "rewrite the config": "echo '[core] worktree = /' >> .git/config && echo WROTE",
        "rename .git away": "mv .git .git-old && echo WROTE",
        "remove .git": "rm -rf .git && echo WROTE",
        "plant a gitfile in a subfolder": f"mkdir -p sub && echo 'gitdir: {other}' > sub/.git && echo WROTE",
        "plant a repository with core.worktree": f"mkdir -p nested/.git && printf '[core]\\n\\tworktree = {other}\\n' > "
                                                 "nested/.git/config && echo PLANTED",
    }
    results = {label: run(box, cmd) for label, cmd in attempts.items()}
    for label in ("write a hook", "rewrite the config", "rename .git away", "remove .git"):
        assert "WROTE" not in results[label].output, label
    diff = box.ws.diff()
    assert "reference solution" not in diff and "nested/.git" not in diff and "sub/.git" not in diff
    inside = run(box, "git status --short; git diff --quiet HEAD -- src/ && echo UNCHANGED")
    assert "UNCHANGED" in inside.output  # the sandbox's own git still works (criteria use it)


def test_a_planted_git_configuration_cannot_fool_a_criterion_s_git(box):
    """Criteria such as `git diff --quiet HEAD -- src/` run in the sandbox on the agent's tree: a ~/.gitconfig that
    points the work tree at a pristine copy, or attributes that hide a change, must not make edited code look
    untouched."""
    run(box, "mkdir -p pristine && cp -r src pristine/ && echo '# edited' >> src/app.py")
    write(box, ".gitconfig", "[core]\n\tworktree = pristine\n\tfsmonitor = true\n")
    write(box, ".config/git/config", "[core]\n\tworktree = pristine\n")
    write(box, ".gitattributes", "src/** -diff\n")
    result = run(box, "git diff --quiet HEAD -- src/ && echo UNTOUCHED || echo CHANGED")
    assert "CHANGED" in result.output and "UNTOUCHED" not in result.output, result.output


def test_links_and_special_files_never_reach_the_diff(box, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text(CANARY)
    secret.chmod(0o600)
    run(box, f"ln -s {secret} leak.txt; ln -s /etc/passwd passwd.txt; ln -s / rootlink; mkfifo pipe; "
             "ln -s ../.. up; echo real > real.txt")
    started = time.monotonic()
    diff = box.ws.diff()
    assert time.monotonic() - started < 10  # a FIFO does not block the snapshot
    assert CANARY not in diff and "root:" not in diff
    assert box.ws.changed_files(diff) == ["real.txt"]


# --- 2. read-backs take regular files only, never a link ------------------------------------------------------

def test_read_backs_never_follow_links(home, monkeypatch, tmp_path):
    monkeypatch.setenv("BV_SANDBOX_CANARY", CANARY)
    secret = tmp_path / "host-secret.txt"
    secret.write_text("TOP-SECRET-" + CANARY)
    secret.chmod(0o600)
    references = REPO_ROOT / "packs" / "code" / "references.jsonl"
    script = (f"ln -s {secret} a.txt; ln -s /proc/self/environ b.txt; ln -s {references} c.txt; "
              f"ln -s /proc/1/environ d.txt; ln -s {tmp_path} dir; ln /etc/passwd hard.txt; echo ok > e.txt")
    run_ = sandboxed.run_files({"x.txt": "x"}, script, sandboxed.limits_for({"timeout_s": 10}), collect=True)
    stored = json.dumps(sandboxed.as_dict(run_))
    assert "TOP-SECRET" not in stored and CANARY not in stored and '"reply"' not in stored and "root:" not in stored
    assert set(run_.files) == {"x.txt", "e.txt"}


# --- 3. tools never raise and never block ---------------------------------------------------------------------

def test_tools_never_raise_and_never_block(box):
    run(box, "ln -s loop1 loop2; ln -s loop2 loop1; mkfifo fifo; ln -s /dev/zero zero; mkdir d; ln -s /etc etc; "
             "python3 -c \"open('evil.txt','w').write('a'*40 + 'b')\"")
    calls = [
        ("read_file", {"path": "loop1"}), ("write_file", {"path": "loop1", "content": "x"}),
        ("read_file", {"path": "a\x00b"}), ("write_file", {"path": "nul\x00.txt", "content": "x"}),
        ("write_file", {"path": "s.txt", "content": "\ud800 lone surrogate"}),
        ("edit_file", {"path": "data.txt", "old": "a", "new": "\udfff"}),
        ("read_file", {"path": "fifo"}), ("write_file", {"path": "fifo", "content": "x"}),
        ("edit_file", {"path": "fifo", "old": "a", "new": "b"}), ("read_file", {"path": "zero"}),
        ("write_file", {"path": "etc/evil", "content": "x"}), ("list_files", {"path": "etc"}),
        ("search", {"pattern": "(a+)+$", "path": "."}), ("search", {"pattern": "x", "path": "loop1"}),
        ("read_file", {"path": "\udcff"}), ("list_files", {"path": "d/../.."}),
    ]
    for name, args in calls:
        started = time.monotonic()
        result = box.call(name, args)  # must return, not raise
        took = time.monotonic() - started
        assert took < 8, (name, args, took)
        assert not result.ok or name == "search", (name, args, result)
    assert not Path("/etc/evil").exists()
    assert box.call("read_file", {"path": "data.txt"}).ok  # still usable


def test_search_is_bounded_in_time(box):
    write(box, "big.txt", ("a" * 30 + "!\n") * 2000)
    started = time.monotonic()
    result = box.call("search", {"pattern": "(a+)+$"})
    assert time.monotonic() - started < 10
    assert result.error_kind == "timeout" or result.ok


# --- 4. a budget per sandbox ----------------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="a uid per sandbox needs root (not root: the harness's own uid)")
def test_a_sandbox_holding_its_whole_process_budget_does_not_starve_another(home):
    """One sandbox forks its whole process budget and holds it; a sim's reference solution scored at the same
    time in another sandbox still passes (it used to fail 4/5 with "Cannot fork": one uid, one budget)."""
    from beyond_vibes_assets.agent.validity import check_validity
    from beyond_vibes_assets.catalog.sims import load_sim

    hog_dir = home / "hog"
    hog_dir.mkdir(parents=True)
    hog = Workspace(hog_dir)
    limits = Limits(timeout_s=45, processes=128)
    hog_script = ("python3 -c \"import os, time\nn = 0\nwhile True:\n    try:\n        pid = os.fork()\n"
                  "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(40)\n        os._exit(0)\n"
                  "    n += 1\nopen('held', 'w').write(str(n))\nwhile not os.path.exists('release'):\n    time.sleep(0.1)\"")

    def hold():
        return hog.run(hog_script, limits)

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(hold)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (hog_dir / "held").exists():
            time.sleep(0.2)
        assert (hog_dir / "held").exists(), "the hog never held its processes"
        assert int((hog_dir / "held").read_text()) >= 100  # it holds (nearly) its whole budget of 128
        validity = check_validity(load_sim(REPO_ROOT / "sims" / "planning-sqlite-migration"), home / "validity")
        assert validity.valid, validity.problems()
        also = sandboxed.run_files({}, "for i in 1 2 3 4 5 6 7 8; do sh -c 'exit 0' & done; wait; echo FORKED",
                                   sandboxed.limits_for({"timeout_s": 20}))
        assert "FORKED" in also.output and "Cannot fork" not in also.output, also.output
        assert not future.done()  # the hog still holds its processes while the others ran
        (hog_dir / "release").write_text("")
        future.result(timeout=90)


def test_budget_mechanism_is_recorded_and_the_fallback_works(home, monkeypatch):
    """With cgroups the memory ceiling is summed over the sandbox; without them (forced off) the uid pool and
    per-process rlimits still apply, and the mechanism says which one ran."""
    ws_dir = home / "mem"
    ws_dir.mkdir(parents=True)
    ws = Workspace(ws_dir)
    eat = ("for i in 1 2 3 4; do python3 -c \"import time; b = bytearray(150 << 20); b[::4096] = b'x' * len(b[::4096]); "
           "time.sleep(3)\" & done; wait; echo DONE")
    limits = Limits(timeout_s=30, memory_bytes=400 << 20)
    result = ws.run(eat, limits)
    assert result.mechanism
    if budget.cgroup_mode() != "none":
        assert "cgroup" in result.mechanism and "memory ceiling" in result.output, result.output[-500:]
    monkeypatch.setenv("BEYOND_VIBES_SANDBOX_CGROUPS", "off")
    budget._probe.clear()
    try:
        fallback = ws.run("ulimit -v; echo ok", limits)
        assert fallback.ok and "no cgroup" in fallback.mechanism and str((400 << 20) // 1024) in fallback.output
    finally:
        monkeypatch.delenv("BEYOND_VIBES_SANDBOX_CGROUPS")
        budget._probe.clear()


def test_disk_budget_and_tmp_size(home):
    ws_dir = home / "disk"
    ws_dir.mkdir(parents=True)
    ws = Workspace(ws_dir)
    limits = Limits(timeout_s=30, disk_bytes=20 << 20, file_bytes=16 << 20)
    result = ws.run("for i in 1 2 3; do head -c 10000000 /dev/zero > f$i; done", limits)
    assert result.disk_exceeded and not result.ok and "disk budget" in result.output
    tmp = ws.run("head -c 300000000 /dev/zero > /tmp/big; echo rc=$?", Limits(timeout_s=30, file_bytes=1 << 30))
    assert "No space left" in tmp.output or "rc=1" in tmp.output


def test_machine_failures_are_sandbox_errors_and_a_forged_one_is_not(home, monkeypatch):
    ws_dir = home / "err"
    ws_dir.mkdir(parents=True)
    ws = Workspace(ws_dir)
    forged = ws.run("echo 'bwrap: Creating new namespace failed: Resource temporarily unavailable' >&2; exit 1",
                    Limits(timeout_s=10))
    assert forged.sandbox_error is None and forged.exit_code == 1  # the model's failure, not the machine's
    if os.geteuid() == 0:
        monkeypatch.setattr(budget, "UID_POOL", 1)
        with budget.lease(10, 1 << 30):  # the only uid is taken: no budget within the wait
            monkeypatch.setattr(budget, "WAIT_S", 0.2)
            starved = ws.run("true", Limits(timeout_s=10))
        assert starved.sandbox_error and "busy" in starved.sandbox_error
        done = sandboxed.run_files({}, "true", sandboxed.limits_for({}))
        assert done.sandbox_error is None


# --- 5. an allow-list of mounts, and what was contained before -------------------------------------------------

def test_only_allow_listed_folders_are_visible(box):
    copy = Path("/srv") / f"bv-copy-{uuid.uuid4().hex[:8]}"
    shutil.copytree(REPO_ROOT / "sims" / "planning-auth-plan", copy / "sims" / "planning-auth-plan")
    try:
        found = run(box, "find / -path /proc -prune -o -name task.yaml -print 2>/dev/null | head; ls /srv 2>&1")
        assert "task.yaml" not in found.output and "bv-copy" not in found.output, found.output
        top = set(run(box, "ls -a /").output.split())
        assert not {"srv", "mnt", "boot", "media", "opt", "farm", "old_root", "home"} & top, top
        assert "/ / " not in run(box, "cat /proc/self/mountinfo").output.split("\n", 1)[1]  # no bind of the host root
    finally:
        shutil.rmtree(copy, ignore_errors=True)


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
        ("read the harness's folder beside the workspace", "run", f"ls {ws.harness_dir}", lambda r: r.ok),
        ("become root again", "run", "id -u; su -c id 2>&1; sudo id 2>&1", lambda r: r.output.splitlines()[1:2] == ["0"] or "uid=0" in r.output),
        ("fork bomb", "run", "bomb() { bomb | bomb & }; bomb", lambda r: False),
        ("1 GB of output", "run", "head -c 1000000000 /dev/zero | tr '\\0' a", lambda r: len(r.output) > 100_000),
        ("a file past the size limit", "run", "head -c 200000000 /dev/zero > big.bin",
         lambda r: (ws.root / "big.bin").exists() and (ws.root / "big.bin").stat().st_size > Limits().file_bytes),
        ("outlive the timeout", "run+short", "sleep 60 & sleep 60", lambda r: not r.ok and False),
        ("a hard link to a host file", "run", "ln /etc/passwd hard && echo LINKED", lambda r: "LINKED" in r.output),
        ("mount something", "run", "mount -t tmpfs none /tmp 2>&1 && echo MOUNTED", lambda r: "MOUNTED" in r.output),
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
        elif tool == "run+short":  # the same box under a 1 s wall clock: what outlives it is killed all the same
            result = Toolbox(ws, TOOLS_ALL, Limits(timeout_s=1, cpu_s=3)).call("run", {"command": args})
        else:
            result = box.call(tool, args)
        results[label] = result
        if escaped(result):
            escapes.append(label)
    listener.close()
    assert len(attempts) >= 25
    assert escapes == [], escapes
    refused = {k: r for k, r in results.items() if r.error_kind == "refused"}
    assert {"absolute path read", "dot-dot read", "dot-dot write", "edit .git", "search from /",
            "symlink made by the shell, read by a file tool", "symlinked folder listed"} <= set(refused)
    assert results["1 GB of output"].output.endswith("kept]") or "output truncated" in results["1 GB of output"].output
    assert results["outlive the timeout"].error_kind == "timeout"
    if os.geteuid() == 0:  # as root, sandboxed commands run as an unprivileged uid from the pool
        assert budget.UID_BASE <= int(results["become root again"].output.splitlines()[1]) < budget.UID_BASE + budget.UID_POOL
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
    left = ws.run("sleep 60 & echo started", Limits(timeout_s=10), isolation="none")
    assert left.ok and not [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [""])[:2] == ["sleep", "60"]]


def test_pytest_in_the_sandbox_loads_none_of_the_harness_s_plugins(box, tmp_path):
    """A criterion's or an agent's `pytest` runs on pytest alone: the plugins installed beside the harness (which
    differ between the laptop and the dev lock) would make one task's run depend on the install."""
    write(box, "tests/test_one.py", "def test_one():\n    assert 1 + 1 == 2\n")
    inside = run(box, "python -m pytest -p no:cacheprovider tests/test_one.py")
    assert inside.ok and "1 passed" in inside.output, inside.output
    assert "plugins:" not in inside.output, inside.output
    # the same run on the host, with this environment's autoloading, lists them: the assertion above is not vacuous
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    host = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_one.py"], cwd=tmp_path / "host",
                          capture_output=True, text=True, env=env, timeout=60)
    assert "plugins:" in host.stdout and "1 passed" in host.stdout, host.stdout
