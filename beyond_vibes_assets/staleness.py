"""Ask Dagster whether an asset partition is fresh, stale or missing, as the UI does.

The CLI uses it to materialize only what is missing or stale (new variant, changed file, changed
verifier, changed code version) instead of recomputing everything.
"""

from __future__ import annotations

import dagster as dg


def stale_status(instance: dg.DagsterInstance, asset: str, partition: object | None = None) -> str:
    """'FRESH', 'STALE' or 'MISSING' for one asset partition."""
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._core.loader import LoadingContextForTest

    from .definitions import defs

    resolver = CachingStaleStatusResolver(instance, defs.resolve_asset_graph(), LoadingContextForTest(instance))
    return resolver.get_status(dg.AssetKey(asset), str(partition) if partition is not None else None).value


def needs_run(instance: dg.DagsterInstance, assets: list[str], partition: object | None = None) -> bool:
    return any(stale_status(instance, a, partition) != "FRESH" for a in assets)
