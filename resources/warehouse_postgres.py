"""The warehouse on PostgreSQL: the same tables, views and queries as DuckDB, written once in DuckDB's dialect under
`sql/` and transpiled with sqlglot (median -> percentile_cont, DOUBLE -> double precision, DuckDB's float division
kept explicit, `?` -> `%s`). A thin connection wrapper gives the resource DuckDB's `execute(sql, params)` shape.

Many writers at once are safe: each partition replacement runs in one transaction under an advisory lock keyed by
the table and the partition, so two runs replacing the same partition serialize instead of both inserting; schema
changes run under one global advisory lock.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

SCHEMA_LOCK = 0x6276_5F73  # "bv_s": one advisory lock id for DDL
_PCT = "\x00pct\x00"


def _group_by_all(tree):
    """DuckDB's GROUP BY ALL as Postgres ordinals: every projection that holds no aggregate."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        if group is None or not group.args.get("all"):
            continue
        ordinals = [exp.Literal.number(i + 1) for i, e in enumerate(select.expressions) if not e.find(exp.AggFunc)]
        select.set("group", exp.Group(expressions=ordinals))
    return tree


def split_statements(sql: str) -> list[str]:
    """DuckDB-dialect SQL as PostgreSQL statements; literal percent signs are left as a marker (see to_postgres)."""
    import logging

    import sqlglot

    # "PostgreSQL does not support IGNORE NULLS" for any_value: Postgres' any_value skips NULLs anyway
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    trees = sqlglot.parse(sql.replace("%", _PCT), read="duckdb")
    return [t for t in (_group_by_all(tree).sql(dialect="postgres") for tree in trees if tree is not None) if t.strip()]


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """DuckDB-dialect SQL (one or more statements) as PostgreSQL with psycopg2 placeholders (`?` -> `%s`, a literal
    `%` -> `%%`)."""
    return ";\n".join(s.replace(_PCT, "%%") for s in split_statements(sql))


def lock_id(*parts: Any) -> int:
    """A stable signed 64-bit advisory lock id for a table and partition key."""
    digest = hashlib.sha256(repr(parts).encode()).digest()[:8]
    return int.from_bytes(digest, "big", signed=True)


class Result:
    """The slice of a DuckDB result the warehouse code reads: description, fetchall, fetchone."""

    def __init__(self, cursor: Any):
        self.description = cursor.description
        self._rows = cursor.fetchall() if cursor.description else []

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None


class PgConnection:
    """psycopg2 in autocommit mode, speaking DuckDB SQL: BEGIN/COMMIT/ROLLBACK pass through as statements."""

    def __init__(self, dsn: str):
        import psycopg2

        self._con = psycopg2.connect(dsn)
        self._con.autocommit = True

    def execute(self, sql: str, params: list[Any] | tuple = ()) -> Result:
        with self._con.cursor() as cur:
            cur.execute(to_postgres(sql), list(params) or None)
            return Result(cur)

    def executemany(self, sql: str, rows: list[list[Any]]) -> None:
        from psycopg2.extras import execute_batch

        with self._con.cursor() as cur:
            execute_batch(cur, to_postgres(sql), rows, page_size=500)

    def run_ddl(self, statement: str) -> None:
        """One already-Postgres statement with no parameters (DDL from split_statements): no transpiling, no `%s`."""
        with self._con.cursor() as cur:
            cur.execute(statement.replace("\x00pct\x00", "%"))

    def close(self) -> None:
        self._con.close()


_CREATE_RE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)
_VIEW_RE = re.compile(r"CREATE OR REPLACE VIEW (\w+)", re.IGNORECASE)


def columns(con: PgConnection, table: str) -> list[tuple[str, str, bool, Any]]:
    """(name, type, nullable, default) of a table, like DuckDB's DESCRIBE."""
    rows = con.execute("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                       "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", [table])
    return [(r[0], r[1], r[2] == "YES", r[3]) for r in rows.fetchall()]


def ensure_schema(con: PgConnection, tables: list[str], views: list[str]) -> None:
    """Create the tables (adding columns a newer DDL has), then drop and recreate the views in order, all under one
    advisory lock so concurrent runs do not race on DDL."""
    import sqlglot
    from sqlglot import exp

    con.execute("BEGIN")
    try:
        con.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        for ddl in tables:
            for statement in split_statements(ddl):
                con.run_ddl(statement)
            match = _CREATE_RE.search(ddl)
            if not match:
                continue
            have = {c[0] for c in columns(con, match.group(1))}
            create = sqlglot.parse_one(ddl, read="duckdb")
            for column in create.find_all(exp.ColumnDef):
                if column.name not in have:
                    kind = column.args["kind"].sql(dialect="postgres")
                    con.run_ddl(f"ALTER TABLE {match.group(1)} ADD COLUMN {column.name} {kind}")
        names = [m.group(1) for v in views for m in _VIEW_RE.finditer(v)]
        for name in reversed(names):
            con.run_ddl(f"DROP VIEW IF EXISTS {name} CASCADE")
        for view in views:
            for statement in split_statements(view):
                con.run_ddl(statement)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
