"""Deployment profiles: one variable switches the resource set; a missing variable fails at load with its name and
purpose; values stay `dg.EnvVar`s (no secret copied into the definitions) and resolve outside runs too."""

import os
import subprocess
import sys

import dagster as dg
import pytest

from beyond_vibes_assets.orchestration.profiles import TEAM_VARIABLES, ProfileError, current_profile, resources_for
from resources import env_value
from tests.conftest import REPO

TEAM_ENV = {"BEYOND_VIBES_WAREHOUSE_DSN": "postgresql://bv:s3cret@127.0.0.1:5432/wh",
            "BEYOND_VIBES_S3_BUCKET": "bv-bucket", "BEYOND_VIBES_S3_ENDPOINT": "http://127.0.0.1:8333",
            "BEYOND_VIBES_MLFLOW_URI": "postgresql://bv:s3cret@127.0.0.1:5432/mlflow"}


def test_local_is_the_default_and_an_unknown_profile_is_refused(monkeypatch):
    monkeypatch.delenv("BEYOND_VIBES_PROFILE", raising=False)
    assert current_profile() == "local"
    local = resources_for("local")
    assert local["warehouse"].kind == "duckdb" and local["object_store"].kind == "local"
    monkeypatch.setenv("BEYOND_VIBES_PROFILE", "prod")
    with pytest.raises(ProfileError, match="'prod' is not a profile; use one of: local, team, k8s"):
        current_profile()


def test_team_profile_names_every_missing_variable_and_its_purpose_at_load():
    env = {k: v for k, v in os.environ.items() if k not in TEAM_VARIABLES}
    env.update(BEYOND_VIBES_PROFILE="team", BEYOND_VIBES_S3_BUCKET="bv-bucket")
    proc = subprocess.run([sys.executable, "-c", "import beyond_vibes_assets.definitions"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "profile 'team' (BEYOND_VIBES_PROFILE) needs these environment variables" in proc.stderr
    for name in ("BEYOND_VIBES_WAREHOUSE_DSN", "BEYOND_VIBES_S3_ENDPOINT", "BEYOND_VIBES_MLFLOW_URI"):
        assert f"{name}: {TEAM_VARIABLES[name]}" in proc.stderr
    assert "BEYOND_VIBES_S3_BUCKET:" not in proc.stderr  # the one that is set is not listed


def test_team_profile_reads_values_from_the_environment_without_copying_them(monkeypatch):
    for key, value in TEAM_ENV.items():
        monkeypatch.setenv(key, value)
    team = resources_for("team")
    warehouse, store = team["warehouse"], team["object_store"]
    assert warehouse.kind == "postgres" and store.kind == "s3"
    assert isinstance(warehouse.dsn, dg.EnvVar) and warehouse.dsn.env_var_name == "BEYOND_VIBES_WAREHOUSE_DSN"
    assert env_value(warehouse.dsn) == TEAM_ENV["BEYOND_VIBES_WAREHOUSE_DSN"]
    assert "s3cret" not in warehouse.describe() and "***" in warehouse.describe()
    assert store.uri("weights/x.gguf") == "s3://bv-bucket/beyond-vibes/weights/x.gguf"
    assert set(resources_for("k8s")) == set(team)
