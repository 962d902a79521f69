"""The seeded instance's event log (orchestration/sqlite_event_log.py): Dagster's SQLite event log with its engines
kept. Same files and schema as Dagster's own class (a home reads the same history with either), the concurrency
pools the `engine` pool needs, a bounded set of engines, and none carried into a forked child."""

import os
import signal
import time
from pathlib import Path

import dagster as dg
import pytest

from beyond_vibes_assets.orchestration import dagster_private as private
from beyond_vibes_assets.orchestration.sqlite_event_log import ReusingSqliteEventLogStorage
from beyond_vibes_assets.settings import ensure_dagster_home
from tests.conftest import with_dagster_event_log


@dg.asset(partitions_def=dg.StaticPartitionsDefinition([f"p{i}" for i in range(12)]))
def numbered(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partition": context.partition_key})


def _partitions(instance) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey("numbered")))


@pytest.fixture()
def seeded(home):
    ensure_dagster_home()
    return Path(os.environ["DAGSTER_HOME"])


def test_the_seeded_instance_uses_it_with_dagster_s_files_and_concurrency_pools(seeded):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, ReusingSqliteEventLogStorage)
        assert storage.supports_global_concurrency_limits  # the `engine` pool
        assert Path(storage._base_dir) == seeded / "history" / "runs"  # noqa: SLF001 - Dagster's default place
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert dg.materialize([numbered], partition_key="p0", instance=instance).success
        assert _partitions(instance) == {"p0"}
        assert storage.initialize_concurrency_limit_to_default("engine")  # as a step claiming the pool does
        assert storage.get_concurrency_info("engine").slot_count == 1  # deploy/dagster.yaml's default_limit


def test_a_home_reads_the_same_history_with_dagster_s_class_and_back(seeded):
    config = seeded / "dagster.yaml"
    ours = config.read_text()
    stock = with_dagster_event_log(ours)
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([numbered], partition_key="p1", instance=instance).success
    config.write_text(stock)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage) is private.SqliteEventLogStorage
        assert _partitions(instance) == {"p1"}
        assert dg.materialize([numbered], partition_key="p2", instance=instance).success
    config.write_text(ours)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, ReusingSqliteEventLogStorage)
        assert _partitions(instance) == {"p1", "p2"}


def test_engines_are_built_once_per_file_and_bounded(seeded, monkeypatch):
    built = []
    real = private.create_engine

    def counting(url, **kwargs):
        built.append(url)
        return real(url, **kwargs)

    with dg.DagsterInstance.get() as instance:
        monkeypatch.setattr(private, "create_engine", counting)
        storage = instance.event_log_storage
        storage.max_engines = 4
        for i in range(3, 12):  # a run per partition: each its own file, beside the index
            assert dg.materialize([numbered], partition_key=f"p{i}", instance=instance).success
        assert len(_partitions(instance)) == 9
        assert len(storage._engines) <= 4  # noqa: SLF001
        # per run: its own file and, once evicted, the index again; never one per write (~20 writes per run here)
        assert len(built) <= 2 * 9 + 1, len(built)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_builds_its_own_engines(seeded):
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([numbered], partition_key="p0", instance=instance).success
        storage = instance.event_log_storage
        assert storage._engines  # noqa: SLF001
        pid = os.fork()
        if pid == 0:  # the child: nothing kept from the parent, and the history still reads and writes
            code = 1
            try:
                if not storage._engines and _partitions(instance) == {"p0"}:  # noqa: SLF001
                    code = 0 if dg.materialize([numbered], partition_key="p5", instance=instance).success else 2
            finally:
                os._exit(code)
        deadline = time.monotonic() + 60  # a child stuck on a lock it inherited fails the test, never hangs it
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child did not finish within 60 s")
        assert os.waitstatus_to_exitcode(done[1]) == 0
        assert storage._engines  # noqa: SLF001 - the parent's are untouched
        assert _partitions(instance) == {"p0", "p5"}
