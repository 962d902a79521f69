"""BEYOND_VIBES_PROFILE=team for real: Dagster instance, warehouse and MLflow in a real PostgreSQL, weights in a real
S3-compatible server (SeaweedFS), both on 127.0.0.1; the graph (build, weights, probe, a pack, a sim episode, the
snapshot and the report) runs end to end with the profile's own resources — no resource is swapped in by the test."""

import shutil

import boto3
import dagster as dg
import pytest

from beyond_vibes_assets.cli import materialize
from beyond_vibes_assets.definitions import default_resources
from tests.conftest import LIGHT_PROBE, MATH_ITEMS, REPO, SMOL_CONFIG, make_pack
from tests.e2e.test_sim_episodes import tiny_sim
from tests.servers import postgres_on_loopback, seaweedfs_s3

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
VARIANT = "smol~Q4_1~cpu"


def test_team_profile_runs_the_graph_on_postgres_and_s3(home, tmp_path, monkeypatch, engine_build_info):
    import psycopg2

    config = tmp_path / "models.yaml"
    config.write_text(SMOL_CONFIG.format(extra=""))
    make_pack(tmp_path / "packs", "math", MATH_ITEMS, verifier="numeric", max_tokens=16)
    for key, value in {"BEYOND_VIBES_CONFIG": str(config), "BEYOND_VIBES_PACKS": str(tmp_path / "packs"),
                       "BEYOND_VIBES_SIMS": str(tiny_sim(tmp_path)), "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(key, value)
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
        for key, value in {"BEYOND_VIBES_PROFILE": "team", "BEYOND_VIBES_WAREHOUSE_DSN": f"{dsn}/warehouse",
                           "BEYOND_VIBES_S3_BUCKET": "team", "BEYOND_VIBES_S3_ENDPOINT": endpoint,
                           "BEYOND_VIBES_MLFLOW_URI": f"postgresql+psycopg2://postgres:trust@127.0.0.1:{port}/mlflow",
                           "BV_PG_USER": "postgres", "BV_PG_PASSWORD": "trust", "BV_PG_HOST": "127.0.0.1",
                           "BV_PG_DB": "postgres", "BV_PG_PORT": str(port), "DAGSTER_HOME": str(dagster_home)}.items():
            monkeypatch.setenv(key, value)

        resources = default_resources()
        assert resources["warehouse"].kind == "postgres" and resources["object_store"].kind == "s3"
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            from beyond_vibes_assets.catalog.resource import CatalogResource
            from beyond_vibes_assets.sync import sync_instance

            sync_instance(instance, CatalogResource())
            assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE,
                               instance=instance, resources=resources)
            assert materialize(["pack_definition"], "math", instance=instance, resources=resources)
            assert materialize(["pack_results"], dg.MultiPartitionKey({"variant": VARIANT, "task": "math"}),
                               instance=instance, resources=resources)
            assert materialize(["sim_definition"], "hello", instance=instance, resources=resources)
            assert materialize(["sim_episodes"], dg.MultiPartitionKey({"variant": VARIANT, "sim": "hello"}),
                               instance=instance, resources=resources)
            assert materialize(["curated_dataset", "report"], instance=instance, resources=resources)

        from resources.warehouse import WarehouseResource

        wh = WarehouseResource(kind="postgres", dsn=f"{dsn}/warehouse")
        assert wh.query("SELECT count(*) AS n FROM samples") == [{"n": 4}]
        (board,) = wh.query("SELECT variant, n FROM leaderboard")
        assert board == {"variant": VARIANT, "n": 4}
        (episode,) = wh.query("SELECT episode_id, trace_id FROM sim_episodes")
        keys = [o["Key"] for o in boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
                .list_objects_v2(Bucket="team")["Contents"]]
        assert any(k.startswith("beyond-vibes/weights/smol/Q4_1/") and k.endswith(".gguf") for k in keys)
        from beyond_vibes_assets.agent.traces import find_traces, tracking_uri

        assert tracking_uri().startswith("postgresql")
        (trace,) = find_traces(f"tags.episode_id = '{episode['episode_id']}'")
        assert trace.info.trace_id == episode["trace_id"]
        report = (home / "reports" / "report.md").read_text()
        assert VARIANT in report and "## Leaderboard" in report
        assert not (home / "warehouse" / "beyond_vibes.duckdb").exists()  # nothing went to the local defaults
