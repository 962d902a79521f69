"""The results warehouse: an embedded DuckDB file by default, PostgreSQL for a team (`kind: postgres`, `dsn`).

DuckDB allows one writer process, so only runs write, in short transactions that replace one
partition (delete + insert); writers are serialized by the `warehouse` pool and retry briefly on a
held lock. Nothing opens the file at import time, and the UI process never opens it: readers use the
Parquet snapshot that `curated_dataset` publishes. On Postgres the same SQL (transpiled, warehouse_postgres.py)
runs with many concurrent writers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import PrivateAttr

from beyond_vibes_assets.settings import REPO_ROOT, subdir

from .env import env_value

SQL_DIR = REPO_ROOT / "sql"
INSERT_CHUNK = 256  # rows per INSERT statement on DuckDB


@functools.lru_cache(maxsize=1)
def schema_files() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(table DDL, view DDL, their hash): read once per process."""
    tables = tuple(f.read_text() for f in sorted((SQL_DIR / "schema").glob("*.sql")))
    views = tuple(f.read_text() for f in sorted((SQL_DIR / "views").glob("*.sql")))
    return tables, views, hashlib.sha256("\0".join(tables + ("--views--",) + views).encode()).hexdigest()


def read_sql(relative: str) -> str:
    return (SQL_DIR / relative).read_text()


_CREATE_RE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)


def add_missing_columns(con: Any, ddl: str) -> list[str]:
    """Bring a table made by an older DDL up to date: add the columns the DDL has and the table lacks.

    `CREATE TABLE IF NOT EXISTS` leaves an existing table as it was, and strict rows would then refuse every
    new column; the DDL is built once as a temp table and compared column by column (added columns are
    nullable: older rows have no value for them)."""
    match = _CREATE_RE.search(ddl)
    if not match:
        return []
    table = match.group(1)
    probe = f"_want_{table}"
    con.execute(_CREATE_RE.sub(f"CREATE OR REPLACE TEMP TABLE {probe}", ddl, count=1))
    try:
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        added = []
        for name, column_type, *_ in con.execute(f"DESCRIBE {probe}").fetchall():
            if name not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {column_type}")
                added.append(name)
        return added
    finally:
        con.execute(f"DROP TABLE IF EXISTS {probe}")


class WarehouseRowError(ValueError):
    """A row that does not fit its table: names the table and the offending keys."""


class WarehouseResource(dg.ConfigurableResource):
    kind: Literal["duckdb", "postgres"] = "duckdb"
    path: str | None = None  # duckdb: default BEYOND_VIBES_HOME/warehouse/beyond_vibes.duckdb
    dsn: str | None = None  # postgres: e.g. postgresql://user@host:5432/beyond_vibes (never logged)
    lock_timeout_s: float = 120.0
    _schema_ready: str | None = PrivateAttr(default=None)
    _sessions: dict[int, Any] = PrivateAttr(default_factory=dict)  # thread id -> the connection its session holds

    def db_path(self) -> Path:
        return Path(self.path).expanduser().resolve() if self.path else subdir("warehouse") / "beyond_vibes.duckdb"

    def describe(self) -> str:
        """Where the warehouse is, for messages (a DSN's password is left out)."""
        if self.kind == "postgres":
            return re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", env_value(self.dsn) or "")
        return str(self.db_path())

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Hold one connection for a burst of short calls (queries and replacements) made by this thread.

        Opening and closing a DuckDB file costs ~30 ms (the close checkpoints); an already-answered partition
        makes three calls, so a backfill of them was paced by connections. Never hold a session while a model
        generates: it holds the file's write lock, and other runs wait for it."""
        if threading.get_ident() in self._sessions:
            yield
            return
        with self.connect() as con:
            self._sessions[threading.get_ident()] = con
            try:
                yield
            finally:
                del self._sessions[threading.get_ident()]

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        held = self._sessions.get(threading.get_ident())
        if held is not None:  # inside session(): its connection (read-write, which serves reads too)
            yield held
            return
        if self.kind == "postgres":
            yield from self._connect_postgres()
            return
        import duckdb

        path = self.db_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only and path.exists())
                break
            except duckdb.IOException as exc:  # another process holds the write lock
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            if not read_only and self._schema_ready != str(path):
                self._ensure_schema(con)
                self._schema_ready = str(path)  # once per resource instance (a run) and file
            yield con
        finally:
            con.close()

    def _connect_postgres(self) -> Iterator[Any]:
        from .warehouse_postgres import PgConnection, ensure_schema

        dsn = env_value(self.dsn)
        if not dsn:
            raise ValueError("warehouse kind 'postgres' needs 'dsn' (set BEYOND_VIBES_WAREHOUSE_DSN in the team profile)")
        con = PgConnection(dsn)
        try:
            if self._schema_ready != dsn:
                tables, views, _ = schema_files()
                ensure_schema(con, list(tables), list(views))
                self._schema_ready = dsn
            yield con
        finally:
            con.close()

    @staticmethod
    def _ensure_schema(con: Any) -> None:
        """Tables, new columns and views, unless this file already has this exact schema: every run (and every CLI
        process) opens the warehouse, and replaying the DDL each time was most of the cost of opening it."""
        import duckdb

        tables, views, digest = schema_files()
        with contextlib.suppress(duckdb.CatalogException):  # a new file has no stamp yet
            if con.execute("SELECT hash FROM _schema_version").fetchall() == [(digest,)]:
                return
        for ddl in tables:
            con.execute(ddl)
            add_missing_columns(con, ddl)
        for ddl in views:
            con.execute(ddl)
        con.execute("CREATE OR REPLACE TABLE _schema_version (hash VARCHAR NOT NULL)")
        con.execute("INSERT INTO _schema_version VALUES (?)", [digest])

    def _columns(self, con: Any, table: str, keys: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
        """The table's columns, after refusing any key that is not one and any row missing a required one.

        A misspelled key would otherwise land as a silent NULL and a typo'd partition key would delete nothing.
        """
        if self.kind == "postgres":
            from .warehouse_postgres import columns as pg_columns

            described = [(name, kind, "YES" if nullable else "NO", None, default) for name, kind, nullable, default
                         in pg_columns(con, table)]
        else:
            described = con.execute(f"DESCRIBE {table}").fetchall()  # name, type, null, key, default, extra
        columns = [r[0] for r in described]
        required = [r[0] for r in described if r[2] == "NO" and r[4] is None]
        unknown = sorted(set(keys).union(*(row.keys() for row in rows)) - set(columns))
        if unknown:
            raise WarehouseRowError(f"table {table} has no column(s) {', '.join(unknown)}; "
                                    f"its columns are: {', '.join(columns)}")
        for i, row in enumerate(rows):
            missing = [c for c in required if row.get(c) is None]
            if missing:
                raise WarehouseRowError(f"table {table}: row {i} lacks required column(s) {', '.join(missing)}")
        return columns

    def replace_partition(self, table: str, keys: dict[str, Any], rows: Sequence[dict[str, Any]]) -> int:
        """Delete the partition's rows and insert the new ones in one transaction (no duplicates, no gap)."""
        return self.replace_partitions([(table, keys, rows)])

    def replace_partitions(self, changes: Sequence[tuple[str, dict[str, Any], Sequence[dict[str, Any]]]],
                           appends: Sequence[tuple[str, Sequence[dict[str, Any]]]] = ()) -> int:
        """Several (table, partition keys, rows) replacements, plus rows appended to append-only tables
        (score_history), in one connection and one transaction: a result and its history land together."""
        with self.connect() as con:
            columns = [self._columns(con, table, keys, rows) for table, keys, rows in changes]
            append_columns = [self._columns(con, table, {}, rows) for table, rows in appends]
            con.execute("BEGIN TRANSACTION")
            try:
                if self.kind == "postgres":  # concurrent writers of one partition take turns
                    from .warehouse_postgres import lock_id

                    for table, keys, _ in sorted(changes, key=lambda c: (c[0], sorted(c[1].items()))):
                        con.execute(f"SELECT pg_advisory_xact_lock({lock_id(table, sorted(keys.items()))})")
                for (table, keys, rows), cols in zip(changes, columns):
                    where = " AND ".join(f"{k} = ?" for k in keys) or "TRUE"  # no keys: the whole table
                    con.execute(f"DELETE FROM {table} WHERE {where}", list(keys.values()))
                    self._insert(con, table, cols, rows)
                for (table, rows), cols in zip(appends, append_columns):
                    self._insert(con, table, cols, rows)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return sum(len(rows) for _, _, rows in changes)

    def append(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        with self.connect() as con:
            self._insert(con, table, self._columns(con, table, {}, rows), rows)

    def _insert(self, con: Any, table: str, columns: list[str], rows: Sequence[dict[str, Any]]) -> None:
        """Rows in as few statements as possible: DuckDB's executemany binds row by row (35x slower than one
        multi-row VALUES at a few hundred rows); Postgres batches its own (execute_batch)."""
        if not rows:
            return
        names, row_marks = ", ".join(columns), "(" + ", ".join("?" for _ in columns) + ")"
        if self.kind == "postgres":
            con.executemany(f"INSERT INTO {table} ({names}) VALUES {row_marks}",
                            [[row.get(c) for c in columns] for row in rows])
            return
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start:start + INSERT_CHUNK]
            con.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([row_marks] * len(chunk))}",
                        [row.get(c) for row in chunk for c in columns])

    def export_parquet(self, table: str, path: Path) -> int:
        """Write a table or view as a Parquet file (the readers' snapshot); returns its row count."""
        with self.connect() as con:
            if self.kind == "duckdb":
                con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT PARQUET)")
                return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            result = con.execute(f"SELECT * FROM {table}")
        import duckdb
        import pandas as pd

        frame = pd.DataFrame(result.fetchall(), columns=[d[0] for d in result.description])
        local = duckdb.connect()
        try:
            local.register("frame", frame)
            local.execute(f"COPY (SELECT * FROM frame) TO '{path}' (FORMAT PARQUET)")
        finally:
            local.close()
        return len(frame)

    def query(self, sql: str, params: Sequence[Any] | None = None, read_only: bool = False) -> list[dict[str, Any]]:
        with self.connect(read_only=read_only) as con:
            cur = con.execute(sql, list(params or []))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
