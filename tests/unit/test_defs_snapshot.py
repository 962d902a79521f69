"""A snapshot of every asset spec: code version, group, partitions, backfill policy, pool, deps, checks and
automation condition (dagster-open-platform's test_defs.py pattern). A change that alters staleness or
scheduling shows up in review as a diff of tests/unit/snapshots/asset_specs.json.

Regenerate deliberately with: BEYOND_VIBES_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/unit/test_defs_snapshot.py
"""

import json
import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_specs.json"


def _partitions(pdef) -> object:
    if pdef is None:
        return None
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return {d.name: _partitions(d.partitions_def) for d in pdef.partitions_defs}
    if isinstance(pdef, dg.DynamicPartitionsDefinition):
        return f"dynamic:{pdef.name}"
    return type(pdef).__name__


def _condition(node) -> str:
    """The condition's whole tree, e.g. AND(SINCE(...), NOT(...)): a changed operand changes the snapshot."""
    if not node.children:
        return node.name
    return f"{node.name}({', '.join(_condition(c) for c in node.children)})"


def asset_specs() -> dict:
    from beyond_vibes_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        condition = node.automation_condition
        specs[key.to_user_string()] = {
            "code_version": node.code_version,
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "pools": sorted(node.pools or []),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
            "automation_condition": f"{condition.get_label()}: {_condition(condition)}" if condition else None,
        }
    return specs


def test_asset_specs_match_the_snapshot():
    current = asset_specs()
    if os.environ.get("BEYOND_VIBES_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), "asset specs changed: review, then regenerate (see docstring)"
