"""Score history, the sigma regression rule, slowed-run flags and baselines: "did my last change make it worse?".

`score_history` gets one row per canonical materialization of a scored partition and is never rewritten;
the sigma rule judges the newest row of a variant x task against its own earlier rows. Baselines are named
snapshots of the current scores; `gate` compares the current scores with one and lists every regression.
Failed calls (timeouts, dead endpoints) are not answers: rates here are over answered items only.
"""

from __future__ import annotations

import hashlib
import os
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from fractions import Fraction
from typing import Any

from .scoring.outcomes import episode_failure, rate_fields
from .stats import newcombe_difference, sigma_regression


# A run during which other processes took more than this share of the machine's CPU (engine/contention.py) has speed
# figures that are not the engine's own. Measured here: an idle machine 0.00-0.05; 6 busy loops on 2 cores ~0.7.
def max_foreign_cpu_share() -> float:
    """BEYOND_VIBES_MAX_FOREIGN_CPU, read when asked (default 0.3)."""
    from .settings import settings

    return settings().max_foreign_cpu


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def load_at_start() -> float | None:
    """The machine's 1-minute load average per CPU, recorded beside each history row."""
    try:
        return round(os.getloadavg()[0] / (os.cpu_count() or 1), 3)
    except OSError:
        return None


def decode_vs_probe(median_decode_tps: float | None, concurrency: int, probe_decode_tps: float | None) -> float | None:
    """Run decode speed relative to the probe's single-stream speed; concurrent streams share the machine,
    so the per-request figure is scaled by the concurrency the answers were produced at."""
    if not median_decode_tps or not probe_decode_tps:
        return None
    return round(median_decode_tps * max(1, concurrency) / probe_decode_tps, 3)


def pack_history_row(rows: Sequence[dict[str, Any]], *, manifest: dict[str, Any], task_fingerprint: str | None,
                     concurrency: int, probe_decode_tps: float | None, load: float | None,
                     foreign_cpu: float | None = None, foreign_load: str | None = None) -> dict[str, Any]:
    """The `score_history` row for one scored pack partition (rows = its `samples` rows). `foreign_cpu`: the share
    of the machine other processes used while its answers were generated (None: not measured)."""
    answered = [r for r in rows if not r.get("failure_mode")]  # latency figures: over replies received
    decode = _median(r.get("decode_tps") for r in answered)
    ratio = decode_vs_probe(decode, concurrency, probe_decode_tps)
    first = rows[0] if rows else {}
    return {
        "kind": "pack", "variant": manifest["variant"], "model": first.get("model"), "quant": first.get("quant"),
        "engine": first.get("engine"), "task": manifest["task"],
        **rate_fields((bool(r.get("passed")), r.get("failure_mode")) for r in rows),
        "median_ttft_s": _median(r.get("ttft_s") for r in answered),
        "median_latency_s": _median(r.get("latency_s") for r in answered), "median_decode_tps": decode,
        "decode_vs_probe": ratio, "foreign_cpu_share": foreign_cpu,
        "slowed": foreign_cpu is not None and foreign_cpu > max_foreign_cpu_share(), "load_at_start": load,
        "foreign_load": foreign_load if foreign_cpu is not None and foreign_cpu > max_foreign_cpu_share() else None,
        **{k: manifest.get(k) for k in ("harness_commit", "harness_dirty", "model_sha256", "engine_build", "run_id")},
        "task_fingerprint": task_fingerprint, "sampling_params": manifest.get("sampling_params"),
        "answers_digest": answers_digest(f"{r.get('cache_key')}@{r.get('created_at')}" for r in rows),
        "recorded_at": datetime.now(timezone.utc).replace(tzinfo=None),
    }


def sim_history_row(rows: Sequence[dict[str, Any]], *, variant: str, sim: str, fingerprint: str | None,
                    manifest: dict[str, Any], load: float | None) -> dict[str, Any]:
    """The `score_history` row for one scored sim partition (rows = its `sim_episodes` rows)."""
    answered = [r for r in rows if not episode_failure(r.get("stop_reason"))]
    first = rows[0] if rows else {}
    return {
        "kind": "sim", "variant": variant, "model": first.get("model"), "quant": first.get("quant"),
        "engine": first.get("engine"), "task": sim,
        **rate_fields((bool(r.get("success")), episode_failure(r.get("stop_reason"))) for r in rows),
        "median_latency_s": _median(r.get("wall_s") for r in answered),
        "load_at_start": load, "task_fingerprint": fingerprint,
        "answers_digest": answers_digest(r.get("episode_id") for r in rows),
        **{k: manifest.get(k) for k in ("harness_commit", "harness_dirty", "model_sha256", "engine_build", "run_id",
                                        "sampling_params")},
        "recorded_at": datetime.now(timezone.utc).replace(tzinfo=None),
    }


def answers_digest(keys: Iterable[str | None]) -> str:
    """A fingerprint of the answers a partition's score rests on (each answer's cache key and when it was
    produced): asking again, even with the same result, is a new measurement; scoring the same answers is not."""
    return hashlib.sha256("\n".join(sorted(k or "" for k in keys)).encode()).hexdigest()[:16]


def new_measurement(warehouse: Any, kind: str, variant: str, task: str, digest: str) -> bool:
    """Whether these answers differ from those of the partition's newest history point: a point is a measurement
    (at least one new answer), not the same answers scored again."""
    from resources.warehouse import read_sql

    rows = warehouse.query(read_sql("queries/last_answers_digest.sql"), [kind, variant, task])
    return not rows or rows[0]["answers_digest"] != digest


def scored_n(row: dict[str, Any]) -> int:
    """The strict rate's denominator of a history row: items minus the machine's failures."""
    if row.get("n") is None:
        return int(row.get("n_answered") or 0)
    return int(row["n"]) - int(row.get("n_failed_calls") or 0)


def series_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """A history series: one variant on one task *as it is* (fingerprint) under one sampling. A pack that grew, a
    changed verifier or another sampling starts a new series: its points are not compared with the old ones."""
    return (row["kind"], row["variant"], row["task"], row.get("task_fingerprint"), row.get("sampling_params"))


def current_series(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each variant x task's points of its current series only (the newest point's fingerprint and sampling), in
    time order: the history the sigma rule, the check, the gate and the report judge."""
    rows = sorted(history, key=lambda r: r["recorded_at"])
    newest = {(r["kind"], r["variant"], r["task"]): series_key(r) for r in rows}
    return [r for r in rows if series_key(r) == newest[(r["kind"], r["variant"], r["task"])]]


def sigma_flags(history: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """Every point of each current series judged against the points before it in that series:
    {(kind, variant, task, index within the series): regression}."""
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in current_series(history):
        series[(row["kind"], row["variant"], row["task"])].append(row)
    flags = {}
    for (kind, variant, task), rows in series.items():
        for i, row in enumerate(rows):
            earlier = [r["rate"] for r in rows[:i] if r["rate"] is not None]
            if row["rate"] is None:
                continue
            found = sigma_regression(earlier, row["rate"], scored_n(row))
            if found:
                flags[(kind, variant, task, i)] = found
    return flags


def latest_regressions(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sigma-rule regressions of the newest point of each variant x task within its current series (what the check
    and `gate` report)."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in current_series(history):
        counts[(row["kind"], row["variant"], row["task"])] += 1
    return [{"rule": "sigma", "kind": k, "variant": v, "task": t, **found}
            for (k, v, t, i), found in sigma_flags(history).items() if i == counts[(k, v, t)] - 1]


def gate_regressions(baseline: Sequence[dict[str, Any]], current: Sequence[dict[str, Any]], *,
                     max_drop: float = 10.0, max_latency_rise: float = 20.0) -> list[dict[str, Any]]:
    """Current scores against a baseline: a rate down more than `max_drop` points *and* by more than chance (the
    95% interval of the drop, Newcombe's, excludes 0: n counts), a median TTFT or latency up more than
    `max_latency_rise` %, a decode speed down more than that %, or a scored partition gone. A score measured on a
    different task (the pack's items or verifiers changed: another fingerprint) is "not comparable", not a
    regression (`blocking` False). Rates are compared as fractions of counts, so the boundary is exact."""
    now = {(r["kind"], r["variant"], r["task"]): r for r in current}
    found = []
    for base in baseline:
        key = (base["kind"], base["variant"], base["task"])
        cur = now.get(key)
        where = {"kind": key[0], "variant": key[1], "task": key[2], "blocking": True}
        if cur is None:
            found.append({**where, "rule": "missing", "was": base["rate"], "now": None, "detail": "no current score"})
            continue
        if base.get("fingerprint") and cur.get("fingerprint") and base["fingerprint"] != cur["fingerprint"]:
            found.append({**where, "blocking": False, "rule": "not comparable", "was": base["rate"], "now": cur["rate"],
                          "detail": "the task changed since the baseline (another fingerprint): a new series"})
            continue
        drop = _rate_drop(base, cur)
        if drop is not None and drop * 100 > Fraction(str(max_drop)):
            low, high = newcombe_difference(int(base["n_passed"] or 0), int(base["n_answered"] or 0),
                                            int(cur["n_passed"] or 0), int(cur["n_answered"] or 0))
            if low > 0:
                found.append({**where, "rule": "rate", "was": base["rate"], "now": cur["rate"],
                              "detail": f"pass rate down {float(drop) * 100:.1f} points (max {max_drop:g}; 95% interval "
                                        f"of the drop {100 * low:.1f}–{100 * high:.1f})"})
        for field, label in (("median_ttft_s", "TTFT"), ("median_latency_s", "latency")):
            was, new = base.get(field), cur.get(field)
            if was and new and 100 * (new / was - 1) > max_latency_rise:
                found.append({**where, "rule": field, "was": was, "now": new,
                              "detail": f"median {label} up {100 * (new / was - 1):.0f}% (max {max_latency_rise:g}%)"})
        was, new = base.get("median_decode_tps"), cur.get("median_decode_tps")
        if was and new and 100 * (1 - new / was) > max_latency_rise:
            found.append({**where, "rule": "median_decode_tps", "was": was, "now": new,
                          "detail": f"decode tok/s down {100 * (1 - new / was):.0f}% (max {max_latency_rise:g}%)"})
    return found


def _rate_drop(base: dict[str, Any], cur: dict[str, Any]) -> Fraction | None:
    """base rate - current rate, exactly from the counts when both rows have them (else from the rates)."""
    if base.get("rate") is None or cur.get("rate") is None:
        return None
    if base.get("n_answered") and cur.get("n_answered") and base.get("n_passed") is not None and cur.get("n_passed") is not None:
        return Fraction(int(base["n_passed"]), int(base["n_answered"])) - Fraction(int(cur["n_passed"]), int(cur["n_answered"]))
    return Fraction(str(base["rate"])) - Fraction(str(cur["rate"]))


def save_baseline(warehouse: Any, name: str) -> int:
    """Snapshot the current canonical scores and latency under `name` (replacing a baseline of that name)."""
    from .engine.manifest import harness_commit

    commit, dirty = harness_commit()
    rows = [{**{k: r[k] for k in ("kind", "variant", "task", "n_answered", "n_passed", "rate", "median_ttft_s",
                                  "median_latency_s", "median_decode_tps", "fingerprint")},
             "baseline": name, "harness_commit": commit + ("-dirty" if dirty else ""),
             "saved_at": datetime.now(timezone.utc).replace(tzinfo=None)}
            for r in warehouse.query("SELECT * FROM current_scores")]
    warehouse.replace_partition("baselines", {"baseline": name}, rows)
    return len(rows)
