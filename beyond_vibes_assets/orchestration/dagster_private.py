"""Every private Dagster name the platform relies on, in one place, checked against the pinned version.

Dagster has no public API for these (per-partition materializations with the provenance tags its own outputs
carry, the stale-status resolver the UI uses, the run launcher's base class and run-worker command). Importing
them from here, never from `dagster._*` directly, means a Dagster upgrade fails loudly at this one module,
which names what to re-check, instead of misbehaving quietly somewhere else. Names resolve lazily (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

import dagster

PINNED = "1.13.27"
if dagster.__version__ != PINNED:
    raise ImportError(f"beyond_vibes_assets relies on private Dagster APIs checked against dagster=={PINNED}, "
                      f"found {dagster.__version__}: re-check orchestration/dagster_private.py and update PINNED")

_WHERE = {
    "compute_logical_data_version": "dagster._core.definitions.data_version",
    "CachingStaleStatusResolver": "dagster._core.definitions.data_version",
    "_build_data_version_tags": "dagster._core.execution.plan.execute_step",
    "_get_code_version": "dagster._core.execution.plan.execute_step",
    "_get_input_provenance_data": "dagster._core.execution.plan.execute_step",
    "LoadingContextForTest": "dagster._core.loader",
    "ASSET_PARTITION_RANGE_START_TAG": "dagster._core.storage.tags",
    "ASSET_PARTITION_RANGE_END_TAG": "dagster._core.storage.tags",
    "DefaultRunLauncher": "dagster._core.launcher",
    "LaunchRunContext": "dagster._core.launcher",
    "CheckRunHealthResult": "dagster._core.launcher",
    "WorkerStatus": "dagster._core.launcher",
    "ConfigurableClassData": "dagster._serdes",
    "serialize_value": "dagster._serdes",
    "EngineEventData": "dagster._core.events",
    "ExecuteRunArgs": "dagster._grpc.types",
    "execute_run_command": "dagster._cli.api",
    "SqliteEventLogStorage": "dagster._core.storage.event_log",
    "SQLITE_BUSY_TIMEOUT_SECONDS": "dagster._core.storage.sqlite",
    "create_engine": "dagster._core.storage.sql",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(importlib.import_module(_WHERE[name]), name)


def step_context(context: dagster.AssetExecutionContext) -> Any:
    """The step execution context behind an asset context (what the provenance helpers take)."""
    return context.op_execution_context._step_execution_context  # noqa: SLF001
