"""Python entry point for notebooks and scripts: the published warehouse snapshot as DuckDB relations.

    from beyond_vibes_assets import api
    api.table("leaderboard").df()                      # pandas
    api.samples(variant="smollm2-135m~Q4_1~cpu", pack="code").filter("NOT passed").df()
    api.episodes(sim="research-queue-compare").df()
    api.sql("SELECT variant, avg(ttft_s) FROM samples GROUP BY ALL").show()

Reads only the Parquet snapshot `curated_dataset` publishes (never the live DuckDB file a run writes), so a notebook
never blocks a run; relations are lazy until `.df()`, `.fetchall()` or `.show()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .settings import home


def snapshot_dir() -> Path:
    """Where the published tables are (BEYOND_VIBES_HOME/warehouse/snapshot)."""
    return home() / "warehouse" / "snapshot"


def tables() -> list[str]:
    """The published tables and views."""
    return sorted(p.stem for p in snapshot_dir().glob("*.parquet"))


_CON: Any = None


def _connection() -> Any:
    """One in-memory connection per process (relations stay valid after the call returns); its views are
    refreshed on every call, so a snapshot published since, or another BEYOND_VIBES_HOME, is seen."""
    global _CON
    import duckdb

    if _CON is None:
        _CON = duckdb.connect()
    current = set(tables())
    for (stale,) in _CON.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        if stale not in current:
            _CON.execute(f"DROP VIEW \"{stale}\"")
    for name in current:
        path = str(snapshot_dir() / f"{name}.parquet").replace("'", "''")
        _CON.execute(f"CREATE OR REPLACE VIEW \"{name}\" AS SELECT * FROM read_parquet('{path}')")
    return _CON


def table(name: str) -> Any:
    """One published table or view as a DuckDB relation (`.df()` for pandas)."""
    path = snapshot_dir() / f"{name}.parquet"
    if not path.exists():
        raise KeyError(f"no published table {name!r} in {snapshot_dir()}: one of {', '.join(tables()) or 'none'} "
                       "(materialize curated_dataset, or run `beyond-vibes demo`, to publish them)")
    return _connection().table(name)


def sql(query: str) -> Any:
    """Any query over the published tables (they are views of the same names)."""
    return _connection().sql(query)


def _filtered(name: str, **equals: str | None) -> Any:
    rel = table(name)
    for column, value in equals.items():
        if value is not None:
            rel = rel.filter(f"{column} = '{value.replace(chr(39), chr(39) * 2)}'")
    return rel


def samples(variant: str | None = None, pack: str | None = None) -> Any:
    """One row per model call of the packs (prompt, raw response, verdict, failure mode, timings)."""
    return _filtered("samples", variant=variant, task=pack)


def episodes(variant: str | None = None, sim: str | None = None) -> Any:
    """One row per agent episode (success, criteria, series, stop reason, tokens, time split)."""
    return _filtered("sim_episodes", variant=variant, sim=sim)
