"""One materialization event per partition from a run that covers many (single-run backfills).

A `MaterializeResult` marks every partition of the run materialized at once, so one failed partition
would either fail them all or be marked done. Assets that run many partitions in one run instead emit
an `AssetMaterialization` per partition as it completes, carrying the same code-version and input
provenance tags Dagster writes for outputs, so staleness (code version, upstream data versions)
works exactly as for a one-partition run. The tags are built with Dagster's own helpers (pinned
version; tests/e2e/test_graph.py checks FRESH/STALE through them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg


def partition_materialization(context: dg.AssetExecutionContext, partition_key: str | dg.MultiPartitionKey,
                              metadata: dict[str, Any], data_version: str | None = None,
                              tags: dict[str, str] | None = None) -> dg.AssetMaterialization:
    from .dagster_private import (
        _build_data_version_tags,
        _get_code_version,
        _get_input_provenance_data,
        compute_logical_data_version,
        step_context,
    )

    step = step_context(context)
    key = context.asset_key
    code_version = _get_code_version(key, step)
    provenance = _get_input_provenance_data(key, step)
    version = dg.DataVersion(data_version) if data_version else compute_logical_data_version(
        code_version, {k: m["data_version"] for k, m in provenance.items()})
    version_tags = _build_data_version_tags(version, code_version, provenance, data_version is not None)
    return dg.AssetMaterialization(asset_key=key, partition=str(partition_key), metadata=metadata,
                                   tags={**version_tags, **(tags or {})})


def group_by_variant(partition_keys: list[Any], second: str = "task") -> dict[str, list[str]]:
    """{variant: [tasks or sims]} in run order, from multi-partition keys (by dimension, never by string parsing)."""
    from partitions import split_multi_key

    grouped: dict[str, list[str]] = defaultdict(list)
    for key in partition_keys:
        variant, task = split_multi_key(key, second)
        grouped[variant].append(task)
    return dict(grouped)


def definition_events(context: dg.AssetExecutionContext, load: Callable[[str], Any],
                      metadata: Callable[[Any], dict[str, Any]], kind: str) -> Iterator[dg.AssetMaterialization]:
    """A definition asset (packs, sims) over every partition of the run: one materialization per entry that
    loads, its fingerprint as data version; a broken entry fails only its own partition (then the run)."""
    broken: dict[str, str] = {}
    for key in context.partition_keys:
        try:
            entry = load(key)
        except Exception as exc:  # noqa: BLE001 - reported per partition below
            broken[key] = str(exc)
            context.log.error(f"{kind} {key}: {exc}")
            continue
        yield partition_materialization(context, key, metadata(entry), data_version=entry.fingerprint)
    if broken:
        raise dg.Failure(description=f"{len(broken)} {kind}(s) failed to load:\n"
                                     + "\n".join(f"  {key}: {msg[:1000]}" for key, msg in broken.items()),
                         metadata={key: dg.MetadataValue.text(msg[:2000]) for key, msg in broken.items()})
