"""Dagster instance storage in a real PostgreSQL (dagster-postgres) on 127.0.0.1."""

import shutil

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.definitions import default_resources
from tests.conftest import REPO, make_pack
from tests.servers import postgres_on_loopback

pytestmark = pytest.mark.integration


def test_materialization_lands_in_postgres_instance(home, tmp_path, monkeypatch):
    packs = tmp_path / "packs"
    make_pack(packs, "mini", [{"id": "a", "prompt": "2+2?", "check": {"answer": 4}}], verifier="numeric")
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(packs))
    with postgres_on_loopback(tmp_path / "pg") as port:
        dagster_home = tmp_path / "dagster_home"
        dagster_home.mkdir()
        shutil.copyfile(REPO / "deploy" / "dagster-postgres.yaml", dagster_home / "dagster.yaml")
        for key, value in {"BV_PG_USER": "postgres", "BV_PG_PASSWORD": "trust", "BV_PG_HOST": "127.0.0.1",
                           "BV_PG_DB": "postgres", "BV_PG_PORT": str(port), "DAGSTER_HOME": str(dagster_home)}.items():
            monkeypatch.setenv(key, value)
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            instance.add_dynamic_partitions("task", ["mini"])
            assert materialize(["pack_definition"], "mini", instance=instance, resources=default_resources())
        with dg.DagsterInstance.get() as reopened:  # read back through a fresh connection
            runs = reopened.get_runs()
            assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
            event = reopened.get_latest_materialization_event(dg.AssetKey("pack_definition"))
            assert event.asset_materialization.partition == "mini"
            assert event.asset_materialization.metadata["items"].value == 1
