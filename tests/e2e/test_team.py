"""The team setup as a team runs it: BEYOND_VIBES_PROFILE=team with a real PostgreSQL (Dagster instance, warehouse,
MLflow) and a real S3 server (SeaweedFS) on 127.0.0.1 — no resource swapped in by the test.

1. `dagster-daemon` and `dagster-webserver` as separate processes with deploy/team/dagster.yaml, and a backfill of
   variant x task partitions launched through the webserver's GraphQL API the way the UI does: the runs run in their
   own processes, yet never serve more llama-servers at once than the `engine` pool allows (1), and the warehouse
   ends with every sample exactly once.
   (The daemon's backfill tick is shortened from 30 s to 1 s: the same daemon, less waiting.)
2. The rest of the graph in-process on the same profile: a sim episode (its MLflow trace in Postgres), the Parquet
   snapshot and the report."""

import re
import shutil
from datetime import datetime

import boto3
import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize, materialize_many
from beyond_vibes_assets.definitions import default_resources
from tests.conftest import CAPITAL_ITEMS, LIGHT_PROBE, MATH_ITEMS, REPO, SMOL_CONFIG, make_pack
from tests.e2e.test_sim_episodes import tiny_sim
from tests.servers import DagsterServices, postgres_on_loopback, seaweedfs_s3

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
VARIANTS = ["smol~Q4_1~cpu", "smol~Q2_K~cpu"]
PACKS = {"math": MATH_ITEMS, "capitals": CAPITAL_ITEMS}


def server_lifetimes(home) -> list[tuple[datetime, datetime, str]]:
    """(start, stop, log) of every llama-server the runs started, from the serve logs' start and stop lines."""
    out = []
    for log in (home / "logs").glob("*/pack_results.log"):
        start = None
        for line in log.read_text(errors="replace").splitlines():
            if m := re.match(r"^# (\S+) ", line):
                start = datetime.fromisoformat(m.group(1))
            elif (m := re.match(r"^## (\S+) stopped", line)) and start:
                out.append((start, datetime.fromisoformat(m.group(1)), log.parent.name))
                start = None
    return sorted(out)


def test_a_ui_backfill_through_the_daemon_respects_the_engine_pool_and_writes_each_sample_once(
        home, tmp_path, monkeypatch, engine_build_info):
    import psycopg2

    config = tmp_path / "models.yaml"
    config.write_text(SMOL_CONFIG.format(extra=""))
    for name, items in PACKS.items():
        make_pack(tmp_path / "packs", name, items, verifier="exact" if name == "capitals" else "numeric", max_tokens=16)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    with postgres_on_loopback(tmp_path / "pg") as port, seaweedfs_s3(tmp_path / "s3") as endpoint:
        admin = psycopg2.connect(f"postgresql://postgres:trust@127.0.0.1:{port}/postgres")
        admin.autocommit = True
        for db in ("warehouse", "mlflow"):
            admin.cursor().execute(f"CREATE DATABASE {db}")
        admin.close()
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="team")
        dsn = f"postgresql://postgres:trust@127.0.0.1:{port}"
        dagster_home = tmp_path / "dagster_home"
        dagster_home.mkdir()
        shutil.copyfile(REPO / "deploy" / "team" / "dagster.yaml", dagster_home / "dagster.yaml")
        env = {"BEYOND_VIBES_CONFIG": str(config), "BEYOND_VIBES_PACKS": str(tmp_path / "packs"),
               "BEYOND_VIBES_SIMS": str(tiny_sim(tmp_path)),
               "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "BEYOND_VIBES_PROFILE": "team",
               "BEYOND_VIBES_WAREHOUSE_DSN": f"{dsn}/warehouse", "BEYOND_VIBES_S3_BUCKET": "team",
               "BEYOND_VIBES_S3_ENDPOINT": endpoint, "BEYOND_VIBES_MLFLOW_URI": f"postgresql+psycopg2://postgres:trust"
               f"@127.0.0.1:{port}/mlflow", "BV_PG_USER": "postgres", "BV_PG_PASSWORD": "trust",
               "BV_PG_HOST": "127.0.0.1", "BV_PG_DB": "postgres", "BV_PG_PORT": str(port),
               "DAGSTER_HOME": str(dagster_home)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        resources = default_resources()
        assert resources["warehouse"].kind == "postgres" and resources["object_store"].kind == "s3"
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            from beyond_vibes_assets.catalog.resource import CatalogResource
            from beyond_vibes_assets.orchestration.sync import sync_instance

            sync_instance(instance, CatalogResource())
            for variant in VARIANTS:  # weights into S3 and a probe, in-process, before the team takes over
                assert materialize(["engine_build", "model_weights", "engine_probe"], variant, run_config=LIGHT_PROBE,
                                   instance=instance, resources=resources)
            assert materialize_many("pack_definition", list(PACKS), instance=instance, resources=resources, force=True)
        import os

        services = DagsterServices({**os.environ, **env}, tmp_path, backfill_tick_s=1)  # not 30 s of waiting per tick
        try:
            services.wait_ready()
            services.stop_sensors()
            keys = [str(dg.MultiPartitionKey({"variant": v, "task": t})) for v in VARIANTS for t in PACKS]
            result = services.backfill(keys, timeout_s=900)
        finally:
            services.close()
        assert result["status"] == "COMPLETED_SUCCESS", result
        runs = result["runs"]
        assert len(runs) == 2 and all(r["status"] == "SUCCESS" for r in runs)  # one run per task, both variants each

        with dg.DagsterInstance.get() as instance:
            pids = set()
            for run in runs:
                for entry in instance.all_logs(run["id"]):
                    if m := re.search(r"Executing steps in process \(pid: (\d+)\)", entry.user_message or ""):
                        pids.add(int(m.group(1)))
            assert len(pids) == 2 and os.getpid() not in pids  # separate run processes, not this one
        lifetimes = server_lifetimes(home)
        assert len(lifetimes) == 4  # each run served each variant once
        for (_, e1, _), (s2, _, _) in zip(lifetimes, lifetimes[1:]):
            assert e1 <= s2, f"two llama-servers at once ({lifetimes}) though the engine pool allows one"

        from resources.warehouse import WarehouseResource

        wh = WarehouseResource(kind="postgres", dsn=f"{dsn}/warehouse")
        counts = wh.query("SELECT variant, task, count(*) AS n, count(DISTINCT sample_id) AS ids FROM samples "
                          "GROUP BY variant, task ORDER BY variant, task")
        assert sorted((r["variant"], r["task"], r["n"], r["ids"]) for r in counts) == sorted(
            (v, t, len(PACKS[t]), len(PACKS[t])) for v in VARIANTS for t in PACKS)
        keys = [o["Key"] for o in boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
                .list_objects_v2(Bucket="team")["Contents"]]
        assert any(k.startswith("beyond-vibes/weights/smol/Q2_K/") and k.endswith(".gguf") for k in keys)

        # 2. the agentic half, the snapshot and the report on the same profile, in-process
        with dg.DagsterInstance.get() as instance:
            assert materialize(["sim_definition"], "hello", instance=instance, resources=resources)
            assert materialize(["sim_episodes"], dg.MultiPartitionKey({"variant": VARIANTS[0], "sim": "hello"}),
                               instance=instance, resources=resources)
            assert materialize(["curated_dataset", "report"], instance=instance, resources=resources)
        (episode,) = wh.query("SELECT episode_id, trace_id FROM sim_episodes")
        from beyond_vibes_assets.agent.traces import find_traces, tracking_uri

        assert tracking_uri().startswith("postgresql")
        (trace,) = find_traces(f"tags.episode_id = '{episode['episode_id']}'")
        assert trace.info.trace_id == episode["trace_id"]
        report = (home / "reports" / "report.md").read_text()
        assert all(v in report for v in VARIANTS) and "## Leaderboard" in report
        assert (home / "warehouse" / "snapshot" / "leaderboard.parquet").exists()
        assert not (home / "warehouse" / "beyond_vibes.duckdb").exists()  # nothing went to the local defaults
