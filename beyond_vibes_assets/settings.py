"""Where the platform keeps state: one home folder so a user or a test can run in isolation.

Everything a run writes (warehouse, object store, raw records, reports, the Dagster instance when
DAGSTER_HOME is unset) lives under BEYOND_VIBES_HOME. Engine builds take minutes, so they are cached
outside it (BEYOND_VIBES_CACHE, default ~/.cache/beyond-vibes) and shared across homes and clones.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def home() -> Path:
    path = Path(os.environ.get("BEYOND_VIBES_HOME", ".beyond_vibes")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_root() -> Path:
    default = Path.home() / ".cache" / "beyond-vibes"
    path = Path(os.environ.get("BEYOND_VIBES_CACHE", default)).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    return Path(os.environ.get("BEYOND_VIBES_CONFIG", "models.yaml")).expanduser().resolve()


def packs_dir() -> Path:
    return Path(os.environ.get("BEYOND_VIBES_PACKS", REPO_ROOT / "packs")).expanduser().resolve()


def sims_dir() -> Path:
    return Path(os.environ.get("BEYOND_VIBES_SIMS", REPO_ROOT / "sims")).expanduser().resolve()


def judges_dir() -> Path:
    """Rubrics (`*.yaml`) and their human labels (`labels/<rubric>.jsonl`)."""
    return Path(os.environ.get("BEYOND_VIBES_JUDGES", REPO_ROOT / "judges")).expanduser().resolve()


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
        if os.environ.get("BEYOND_VIBES_WARM_LAUNCHER") == "1":
            text = text.rstrip("\n") + "\n" + WARM_LAUNCHER_YAML
        target.write_text(text)
    return path
