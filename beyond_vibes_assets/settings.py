"""Where the platform keeps state: one home folder so a user or a test can run in isolation.

Everything a run writes (warehouse, object store, raw records, reports, the Dagster instance when
DAGSTER_HOME is unset) lives under BEYOND_VIBES_HOME. Engine builds take minutes, so they are cached
outside it (BEYOND_VIBES_CACHE, default ~/.cache/beyond-vibes) and shared across homes and clones.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Every BEYOND_VIBES_* environment variable, in one place: read when asked (never at import time), so a test or
    a command that sets one sees it. The CLI's --help lists them from these descriptions."""

    model_config = SettingsConfigDict(env_prefix="BEYOND_VIBES_", extra="ignore", env_ignore_empty=True)

    home: Path = Field(Path(".beyond_vibes"), description="state folder (warehouse, object store, responses, reports)")
    config: Path = Field(Path("models.yaml"), description="models.yaml")
    packs: Path = Field(REPO_ROOT / "packs", description="behaviour packs folder", json_schema_extra={"shown": "the repo's"})
    sims: Path = Field(REPO_ROOT / "sims", description="simulation tasks folder", json_schema_extra={"shown": "the repo's"})
    judges: Path = Field(REPO_ROOT / "judges", description="judge rubrics and labels folder",
                         json_schema_extra={"shown": "the repo's"})
    cache: Path = Field(Path.home() / ".cache" / "beyond-vibes", description="engine builds and the pi agent",
                        json_schema_extra={"shown": "~/.cache/beyond-vibes"})
    profile: Literal["local", "team", "k8s"] = Field("local", description="resource set (team/k8s name their own variables)")
    warehouse_dsn: str | None = Field(None, description="a Postgres warehouse (team profile)",
                                      json_schema_extra={"shown": "DuckDB under the home"})
    mlflow_uri: str | None = Field(None, description="the MLflow tracking store",
                                   json_schema_extra={"shown": "SQLite under the home"})
    log_level: str = Field("INFO", description="Dagster's console log level for CLI runs (-v: DEBUG, -q: WARNING)")
    max_foreign_cpu: float = Field(0.3, ge=0, le=1, description="share of the CPU others may use before a run is "
                                                                "flagged slowed")
    engine_slots: int | None = Field(None, ge=1, description="local engines this machine runs at once",
                                     json_schema_extra={"shown": "cores // engine threads"})
    sandbox_cgroups: Literal["auto", "off"] = Field("auto", description="off: sandboxes use rlimits only, no cgroup")
    pack_traces: bool = Field(True, description="0: pack samples are not written as MLflow traces (the test suite "
                                                "sets 0: every fresh home would pay MLflow's start-up)",
                              json_schema_extra={"shown": "1"})
    warm_launcher: bool = Field(False, description="1: the seeded Dagster instance forks run workers from a warm pool",
                                json_schema_extra={"shown": "0"})


def settings() -> Settings:
    """The environment as it is now: re-read whenever a BEYOND_VIBES_* variable changed (a test, a CLI flag), so
    nothing is frozen at import; parsed once per distinct environment (parsing costs ~0.5 ms, a lookup ~10 µs)."""
    return _parsed(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("BEYOND_VIBES_"))))


@functools.lru_cache(maxsize=32)
def _parsed(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def _path(value: Path) -> Path:
    return value.expanduser().resolve()


def home() -> Path:
    path = _path(settings().home)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_root() -> Path:
    path = _path(settings().cache)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    return _path(settings().config)


def packs_dir() -> Path:
    return _path(settings().packs)


def sims_dir() -> Path:
    return _path(settings().sims)


def judges_dir() -> Path:
    """Rubrics (`*.yaml`) and their human labels (`labels/<rubric>.jsonl`)."""
    return _path(settings().judges)


def subdir(*parts: str) -> Path:
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


# Opt-in (BEYOND_VIBES_WARM_LAUNCHER=1 when the instance config is first seeded, or these lines in dagster.yaml):
# run workers forked from a warm pool. Measured at 1,000 answered partitions it saved nothing of the backfill's
# wall time (README, "Backfills"), so Dagster's own launcher is the default.
WARM_LAUNCHER_YAML = """
run_launcher:
  module: beyond_vibes_assets.orchestration.warm_launcher
  class: WarmRunLauncher
"""


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the home folder unless the user chose one; seed the default instance config (with the
    warm run launcher when BEYOND_VIBES_WARM_LAUNCHER=1)."""
    if os.environ.get("DAGSTER_HOME"):
        path = Path(os.environ["DAGSTER_HOME"]).resolve()
    else:
        path = subdir("dagster")
        os.environ["DAGSTER_HOME"] = str(path)
    path.mkdir(parents=True, exist_ok=True)
    target = path / "dagster.yaml"
    if not target.exists():
        text = (REPO_ROOT / "deploy" / "dagster.yaml").read_text()
        if settings().warm_launcher:
            text = text.rstrip("\n") + "\n" + WARM_LAUNCHER_YAML
        target.write_text(text)
    return path
