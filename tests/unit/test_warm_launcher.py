"""The warm launcher's decisions that need no daemon: which runs are its own, and when its pool is stale.
(Forking real run workers is tested end to end in tests/e2e/test_warm_launcher.py.)"""

import os
import types

from beyond_vibes_assets.orchestration.warm_launcher import WarmRunLauncher, code_fingerprint, is_pool_worker
from beyond_vibes_assets.settings import REPO_ROOT


def fake_run(module: str, working_directory: str):
    pointer = types.SimpleNamespace(module=module, working_directory=working_directory)
    origin = types.SimpleNamespace(repository_origin=types.SimpleNamespace(code_pointer=pointer,
                                                                           executable_path="/usr/bin/python3"))
    return types.SimpleNamespace(job_code_origin=origin)


def test_only_this_repository_code_location_is_forked_from_the_pool():
    launcher = WarmRunLauncher()
    assert launcher._ours(fake_run("beyond_vibes_assets.definitions", str(REPO_ROOT))) == ("/usr/bin/python3",
                                                                                          str(REPO_ROOT))
    assert launcher._ours(fake_run("someone_elses.definitions", str(REPO_ROOT))) is None
    assert launcher._ours(fake_run("beyond_vibes_assets.definitions", "/elsewhere")) is None


def test_editing_a_source_file_changes_the_fingerprint(tmp_path):
    for package in ("beyond_vibes_assets", "resources", "partitions"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    before = code_fingerprint(tmp_path)
    assert code_fingerprint(tmp_path) == before
    target = tmp_path / "resources" / "__init__.py"
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert code_fingerprint(tmp_path) != before
    (tmp_path / "partitions" / "new.py").write_text("x = 1\n")
    assert len({before, code_fingerprint(tmp_path)}) == 2


def test_a_pid_that_is_not_a_pool_worker_is_never_signalled():
    assert not is_pool_worker(os.getpid())  # pytest's own process
    assert not is_pool_worker(2 ** 22 + 12345)  # no such process
