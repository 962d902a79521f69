"""The default instance's event log: Dagster's SQLite event log, with one engine per database file kept and reused.

Dagster's `SqliteEventLogStorage` builds a new SQLAlchemy engine, and opens a new connection, for every write: a
materialization costs one for the run's file and more for the cross-run index, and a run that records many
partitions pays it on each (profiled over 300 all-answered partitions: 7.2 s of 13.0 s in storing events, our own
fan-out ~0.5 s). This class keeps the engines of the files it last used (a few: a long-lived webserver sees many
runs) and forgets them in a forked child. Same files, same schema, same concurrency pools (the `engine` pool), so
a home seeded with Dagster's own class reads the same history with this one and back.

deploy/dagster.yaml names it as `event_log_storage` (Dagster's per-storage keys: runs and schedules stay Dagster's
defaults under DAGSTER_HOME). Its folder defaults to where Dagster's default SQLite storage keeps run event logs.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from . import dagster_private as private

_LIVE: weakref.WeakSet = weakref.WeakSet()


def default_folder() -> str:
    """Where Dagster's default SQLite storage keeps one event-log file per run (DAGSTER_HOME/history/runs)."""
    return os.path.join(os.environ["DAGSTER_HOME"], "history", "runs", "")


class ReusingSqliteEventLogStorage(private.SqliteEventLogStorage):
    max_engines = 8  # the index file, the runs being written, and the recent runs a webserver reads

    def __init__(self, base_dir: str | None = None, inst_data: Any = None):
        self._engines: OrderedDict[str, Any] = OrderedDict()
        super().__init__(base_dir or default_folder(), inst_data=inst_data)
        _LIVE.add(self)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict[str, Any]) -> ReusingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Any:
        url = self.conn_string_for_shard(shard)
        engine = self._engines.pop(url, None)
        if engine is None:
            engine = private.create_engine(url, connect_args={"timeout": private.SQLITE_BUSY_TIMEOUT_SECONDS})
        self._engines[url] = engine  # most recently used last
        while len(self._engines) > self.max_engines:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        """Dagster's `_connect` (same lock, same first-use initialisation, one transaction), on a kept engine."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def forget_engines(self, close: bool = True) -> None:
        """Drop every kept engine (close=False in a forked child: the parent's connections are not ours to close)."""
        engines, self._engines = list(self._engines.values()), OrderedDict()
        for engine in engines:
            engine.dispose(close=close)

    def wipe(self) -> None:
        self.forget_engines()  # wipe deletes the files
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self.forget_engines()


def _after_fork_in_child() -> None:
    for storage in list(_LIVE):
        storage.forget_engines(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
