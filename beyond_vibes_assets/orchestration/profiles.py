"""Deployment profiles: named resource sets chosen by one variable, `BEYOND_VIBES_PROFILE` (local | team | k8s),
after Dagster's project_fully_featured example (RESOURCES_LOCAL / STAGING / PROD). Switching profile changes no
code; values come from `dg.EnvVar`, resolved when a run starts, so no secret is copied into the definitions.

- local (default): DuckDB file, local-folder object store, SQLite MLflow store, all under BEYOND_VIBES_HOME.
- team: warehouse in Postgres, weights and artifacts in S3 (any S3-compatible endpoint), MLflow tracking in
  Postgres (many runs write traces at once; SQLite on a shared volume locks badly over network filesystems).
  The Dagster instance itself goes to Postgres through deploy/team/dagster.yaml.
- k8s: the team resources; runs are Kubernetes Jobs (deploy/k8s/), placed per variant by run tags.

A profile whose variables are missing fails when the definitions load, naming each variable and what it is for.
"""

from __future__ import annotations

import os

import dagster as dg

PROFILE_ENV = "BEYOND_VIBES_PROFILE"
PROFILES = ("local", "team", "k8s")
# variable -> what it is for (every one is required by the team and k8s profiles)
TEAM_VARIABLES = {
    "BEYOND_VIBES_WAREHOUSE_DSN": "the results warehouse in Postgres, e.g. postgresql://bv:PASSWORD@db:5432/beyond_vibes",
    "BEYOND_VIBES_S3_BUCKET": "the S3 bucket holding model weights and artifacts",
    "BEYOND_VIBES_S3_ENDPOINT": "the S3 endpoint URL (an S3-compatible server such as SeaweedFS or MinIO; "
                                "https://s3.amazonaws.com for AWS)",
    "BEYOND_VIBES_MLFLOW_URI": "the MLflow tracking store, e.g. postgresql://bv:PASSWORD@db:5432/mlflow "
                               "(a database of its own: MLflow's tables must not mix with the warehouse's)",
}


class ProfileError(ValueError):
    pass


def current_profile() -> str:
    profile = os.environ.get(PROFILE_ENV, "local") or "local"
    if profile not in PROFILES:
        raise ProfileError(f"{PROFILE_ENV}={profile!r} is not a profile; use one of: {', '.join(PROFILES)}")
    return profile


def missing_variables(profile: str) -> dict[str, str]:
    if profile == "local":
        return {}
    return {name: why for name, why in TEAM_VARIABLES.items() if not os.environ.get(name)}


def resources_for(profile: str) -> dict[str, object]:
    """The resource set of a profile; raises ProfileError naming every missing variable."""
    from resources import (
        HuggingFaceResource,
        LlamaServerResource,
        LLMClientResource,
        ObjectStoreResource,
        WarehouseResource,
    )

    from ..catalog.resource import CatalogResource

    missing = missing_variables(profile)
    if missing:
        lines = "\n".join(f"  {name}: {why}" for name, why in missing.items())
        raise ProfileError(f"profile {profile!r} ({PROFILE_ENV}) needs these environment variables:\n{lines}")
    common = {"catalog": CatalogResource(), "hf_hub": HuggingFaceResource(), "llama_server": LlamaServerResource(),
              "llm_clients": LLMClientResource()}
    if profile == "local":
        return {**common, "object_store": ObjectStoreResource(), "warehouse": WarehouseResource()}
    return {**common,
            "object_store": ObjectStoreResource(kind="s3", bucket=dg.EnvVar("BEYOND_VIBES_S3_BUCKET"),
                                                endpoint_url=dg.EnvVar("BEYOND_VIBES_S3_ENDPOINT")),
            "warehouse": WarehouseResource(kind="postgres", dsn=dg.EnvVar("BEYOND_VIBES_WAREHOUSE_DSN"))}
