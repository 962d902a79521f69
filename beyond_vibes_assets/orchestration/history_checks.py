"""Asset checks over score_history for the scored assets: `no_regression` (sigma rule) and `steady_speed`.

Both are warnings, not blocking: a regression or a slowed run is a finding to look at in the UI, and the
results stay materialized. `beyond-vibes gate` is the blocking form for CI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg

from ..history import latest_regressions, max_foreign_cpu_share


def check_specs(asset: str, speed: bool) -> list[dg.AssetCheckSpec]:
    specs = [dg.AssetCheckSpec("no_regression", asset=asset, description=(
        "No variant x task of the run scored more than 2 sigma below the mean of its own history "
        "(at least 3 earlier canonical points; sigma floored at the binomial standard error)."))]
    if speed:
        specs.append(dg.AssetCheckSpec("steady_speed", asset=asset, description=(
            f"Other processes used at most {max_foreign_cpu_share():.0%} of the machine's CPU while the answers were "
            "generated: above it the speed figures (and any timeouts) are not the engine's own.")))
    return specs


def history_checks(warehouse: Any, asset: str, kind: str, pairs: Iterable[tuple[str, str]],
                   speed: bool) -> list[dg.AssetCheckResult]:
    """Check results for the (variant, task) pairs a run scored, from their history rows."""
    pairs = sorted(set(pairs))
    if not pairs:
        rows: list[dict[str, Any]] = []
    else:
        marks = ", ".join("(?, ?)" for _ in pairs)
        rows = warehouse.query(f"SELECT * FROM score_history WHERE kind = ? AND (variant, task) IN ({marks})",
                               [kind, *[x for p in pairs for x in p]])
    found = latest_regressions(rows)
    out = [dg.AssetCheckResult(
        asset_key=asset, check_name="no_regression", passed=not found, severity=dg.AssetCheckSeverity.WARN,
        metadata={"regressions": dg.MetadataValue.json([{k: r[k] for k in ("variant", "task", "rate", "mean", "sigma",
                                                                             "threshold", "points")} for r in found]),
                  "partitions_checked": len(pairs)})]
    if speed:
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r["recorded_at"]):
            latest[(r["variant"], r["task"])] = r
        slowed = [{"variant": v, "task": t, "foreign_cpu_share": r["foreign_cpu_share"],
                   "decode_vs_probe": r["decode_vs_probe"], "load_at_start": r["load_at_start"]}
                  for (v, t), r in sorted(latest.items()) if r["slowed"]]
        out.append(dg.AssetCheckResult(
            asset_key=asset, check_name="steady_speed", passed=not slowed, severity=dg.AssetCheckSeverity.WARN,
            metadata={"slowed": dg.MetadataValue.json(slowed), "max_foreign_cpu_share": max_foreign_cpu_share()}))
    return out
