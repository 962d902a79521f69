"""Ask Dagster whether asset partitions are fresh, stale or missing, as the UI does, and turn a set of
partitions into the one range a single run covers.

The CLI uses it to materialize only what is missing or stale (new variant, changed file, changed
verifier, changed code version) instead of recomputing everything.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg


def _resolver(instance: dg.DagsterInstance):
    from ..definitions import defs
    from ..orchestration.dagster_private import CachingStaleStatusResolver, LoadingContextForTest

    return CachingStaleStatusResolver(instance, defs.resolve_asset_graph(), LoadingContextForTest(instance))


def stale_status(instance: dg.DagsterInstance, asset: str, partition: object | None = None) -> str:
    """'FRESH', 'STALE' or 'MISSING' for one asset partition."""
    return _resolver(instance).get_status(dg.AssetKey(asset), str(partition) if partition is not None else None).value


def needs_run(instance: dg.DagsterInstance, assets: list[str], partition: object | None = None) -> bool:
    return any(stale_status(instance, a, partition) != "FRESH" for a in assets)


def stale_partitions(instance: dg.DagsterInstance, asset: str, keys: Sequence[object]) -> list[object]:
    """The keys whose partition is missing or stale (one resolver for all of them)."""
    resolver = _resolver(instance)
    return [k for k in keys if resolver.get_status(dg.AssetKey(asset), str(k)).value != "FRESH"]


def partition_range(instance: dg.DagsterInstance, asset: str, keys: Sequence[object]) -> tuple[dict[str, str], int]:
    """Range tags for one run covering `keys`, and how many partitions that range holds.

    A multi-partition range is the rectangle spanned by per-dimension ranges in each dimension's own
    order (dynamic partitions: the order they were added), which is what Dagster's single-run backfill
    launches; a plain dynamic range is a slice of that order.
    """
    from ..orchestration.dagster_private import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    multi = [k for k in keys if isinstance(k, dg.MultiPartitionKey)]
    if multi:
        dims = sorted(multi[0].keys_by_dimension)
        start, end, size = {}, {}, 1
        for dim in dims:
            order = instance.get_dynamic_partitions(dim)
            picked = sorted({order.index(k.keys_by_dimension[dim]) for k in multi})
            start[dim], end[dim] = order[picked[0]], order[picked[-1]]
            size *= picked[-1] - picked[0] + 1
        first, last = dg.MultiPartitionKey(start), dg.MultiPartitionKey(end)
    else:
        from ..definitions import defs

        dynamic = defs.resolve_asset_graph().get(dg.AssetKey(asset)).partitions_def
        assert isinstance(dynamic, dg.DynamicPartitionsDefinition) and dynamic.name
        order = instance.get_dynamic_partitions(dynamic.name)
        picked = sorted(order.index(str(k)) for k in keys)
        first, last, size = order[picked[0]], order[picked[-1]], picked[-1] - picked[0] + 1
    return {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)}, size
