"""The Dagster code location: assets, checks, sensors and resources. Nothing here touches disk or network."""

from __future__ import annotations

import dagster as dg

from .assets import ALL_ASSETS
from .orchestration.profiles import current_profile, resources_for
from .orchestration.sensors import catalog_sync_sensor


def default_resources() -> dict[str, object]:
    """The resources of the profile BEYOND_VIBES_PROFILE names (profiles.py); `local` by default: local folder store,
    DuckDB, llama-server on 127.0.0.1. Swap any of them in tests or deploys."""
    return resources_for(current_profile())


# Declarative automation needs its sensor running by default, or conditions are never evaluated.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_report_sensor", target=dg.AssetSelection.assets("curated_dataset", "report"),
    default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
)

# In-process executor: every asset run here is one step that manages its own concurrency (async requests,
# one engine), so a subprocess per step only added a second Python start-up (~1.5 s) to every run.
defs = dg.Definitions(assets=ALL_ASSETS, sensors=[catalog_sync_sensor, automation_sensor], resources=default_resources(),
                      executor=dg.in_process_executor)
