"""Everything the report shows, gathered from the warehouse in one place (SQL in sql/queries and sql/views)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from resources.warehouse import read_sql

from ..catalog.quants import bounded_by
from ..engine.manifest import harness_commit
from ..history import current_series, sigma_flags
from .comparisons import paired_results, plan_pairs
from .judge_trust import render_judges
from .leaderboard import judged_packs, render_catalog, render_retired, render_series, render_sims


def default_engines(catalog: Any) -> dict[str, str]:
    """Each model's default engine: the first one its variants are listed with."""
    out: dict[str, str] = {}
    try:
        keys = catalog.variant_keys()
    except Exception:  # noqa: BLE001 - an unreadable catalog only loses the engine comparisons
        return out
    for key in keys:
        v = catalog.variant(key)
        out.setdefault(v.model.name, v.engine_name)
    return out


def gather(warehouse: Any, catalog: Any, digest: str) -> dict[str, Any]:
    def q(name: str) -> list[dict[str, Any]]:
        return warehouse.query(read_sql(f"queries/{name}.sql"))

    leaderboard = warehouse.query("SELECT * FROM leaderboard")
    weights = q("weights_origin")
    bounded = {}
    for r in leaderboard:
        for w in weights:
            if w["model"] == r["model"] and w["quant"] == r["quant"] and bounded_by(w["quant"], w.get("derived_from")):
                bounded[r["variant"]] = w["derived_from"]
    labels = {v: f"{v} (≤ {src} source)" for v, src in bounded.items()}
    history = current_series(q("current_history"))  # each task's current series (fingerprint and sampling)
    flagged = sigma_flags(history)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in history:
        if r["kind"] == "pack":
            latest[(r["variant"], r["task"])] = r
    slowed = {k: r["foreign_cpu_share"] for k, r in latest.items() if r.get("slowed")}
    items = q("current_items")
    by_archetype = q("sim_by_archetype")
    pairs = plan_pairs(leaderboard, default_engines(catalog))
    commit, dirty = harness_commit()
    return {
        "leaderboard": leaderboard, "matrix": q("pack_matrix"), "weights": weights, "failures": q("failure_modes"),
        "difficulty": q("pass_by_difficulty"), "latency": q("latency_overall"), "history": history,
        "lmeval": q("lmeval_scores"), "judged_packs": judged_packs(q("judged_packs")),
        "flagged": flagged, "slowed": slowed, "bounded": bounded, "labels": labels, "items": items,
        "by_archetype": by_archetype,
        "paired": paired_results(pairs, items),
        "paired_lmeval": paired_results(pairs, q("lmeval_items")),
        "sims": [*render_sims(by_archetype, q("sim_health"), q("sim_episode_list")), *render_series(q("sim_series"))],
        "judges": render_judges(q("judge_programs"), q("judge_scores_current")),
        "extra": [*render_retired(q("retired")), *render_catalog(q("catalog_state"), digest)],
        "manifest": {"harness_commit": commit, "harness_dirty": dirty, "catalog_digest": digest,
                     "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")},
    }
