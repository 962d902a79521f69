"""Render the Markdown report from warehouse rows (pure: rows in, text out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .stats import pareto_front, wilson


def _f(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def render_sims(by_archetype: Sequence[dict], health: Sequence[dict], episodes: Sequence[dict]) -> list[str]:
    """The simulations section: success per archetype with Wilson intervals, tier-1 health, the episode index."""
    if not episodes:
        return []
    archetypes = sorted({r["archetype"] for r in by_archetype})
    cells = {(r["variant"], r["archetype"]): r for r in by_archetype}
    lines = ["## Simulations", "", "Agent episodes in sandboxed copies of small repositories (canonical runs). "
             "Success = every criterion of the sim passed; 95% Wilson intervals.", "",
             "| variant | " + " | ".join(archetypes) + " |", "|---|" + "---|" * len(archetypes)]
    for variant in sorted({r["variant"] for r in by_archetype}):
        row = []
        for a in archetypes:
            c = cells.get((variant, a))
            if c:
                lo, hi = wilson(c["n_success"], c["n"])
                row.append(f"{c['n_success']}/{c['n']} ({100 * lo:.0f}–{100 * hi:.0f}%)")
            else:
                row.append("—")
        lines.append(f"| `{variant}` | " + " | ".join(row) + " |")
    lines += ["", "| variant | episodes | success | criteria | median steps | tokens | time model / tools / harness s | "
              "tool hallucination | schema errors | looping | outside allowed paths | adopted false premise | "
              "flipped when pushed back | stop reasons |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for h in health:
        flag = " (no isolation)" if h.get("without_isolation") else ""
        lines.append(
            f"| `{h['variant']}`{flag} | {h['episodes']} | {h['successes']} | {h['criteria_passed']}/{h['criteria_total']} | "
            f"{_f(h['median_steps'])} | {h['tokens']} | {_f(h['model_s'])} / {_f(h['tools_s'])} / {_f(h['harness_s'], 2)} | "
            f"{_f(h['tool_hallucination_rate'], 2)} | {_f(h['schema_error_rate'], 2)} | {h['looping']} | {h['outside_allowed']} | "
            f"{h['adopted_false_premise']}/{h['false_premise_episodes']} | "
            f"{h.get('pushback_flipped', 0)}/{h.get('pushback_probed', 0)} | {h['stop_reasons']} |")
    lines += ["", "| variant | sim | # | episode | outcome | criteria | stop | steps | MLflow trace |",
              "|---|---|---|---|---|---|---|---|---|"]
    for e in episodes:
        lines.append(f"| `{e['variant']}` | {e['sim']} | {e['repeat_index']} | `{e['episode_id']}` | "
                     f"{'success' if e['success'] else 'fail'} | {e['criteria_passed']}/{e['criteria_total']} | "
                     f"{e['stop_reason']} | {e['steps']} | `{e['trace_id'] or '—'}` |")
    return lines + ["", "Open one step by step with `beyond-vibes sims show EPISODE`.", ""]


def render_catalog(state: Sequence[dict], digest: str) -> list[str]:
    """Which catalog state the figures reflect: the current packs and sims with their fingerprints."""
    variants = [r["name"] for r in state if r["kind"] == "variant"]
    lines = ["## Catalog state", "", f"Figures cover only what the catalog holds now (state `{digest}`): "
             f"{len(variants)} variant(s): " + ", ".join(f"`{v}`" for v in variants) + ".", "",
             "| kind | name | items | fingerprint |", "|---|---|---|---|"]
    lines += [f"| {r['kind']} | {r['name']} | {_f(r['items'])} | `{(r['fingerprint'] or '—')[:12]}` |"
              for r in state if r["kind"] != "variant"]
    return lines + [""]


def render_retired(rows: Sequence[dict]) -> list[str]:
    """What left the catalog, with the date it left: kept for history, never counted in a headline."""
    if not rows:
        return []
    lines = ["## Retired", "", "Results of variants, packs and sims no longer in the catalog, and answers to items "
             "edited out of a current pack. Kept in the warehouse; not counted above.", "",
             "| what left | name | left on | variant | task / sim | passed |", "|---|---|---|---|---|---|"]
    for r in rows:
        when = r["retired_at"].strftime("%Y-%m-%d %H:%M") if r.get("retired_at") else "—"
        what = "item(s) removed" if r["kind"] == "item" else r["kind"]
        lines.append(f"| {what} | `{r['name']}` | {when} | `{r['variant']}` | {r['task']} | {r['n_passed']}/{r['n']} |")
    return lines + [""]


def render(leaderboard: Sequence[dict], matrix: Sequence[dict], weights: Sequence[dict], failures: Sequence[dict],
           manifest: dict[str, Any], difficulty: Sequence[dict] = (), sims: Sequence[str] = (),
           extra: Sequence[str] = ()) -> str:
    tasks = sorted({r["task"] for r in matrix})
    cells = {(r["variant"], r["task"]): r for r in matrix}
    front = pareto_front([(r["variant"], r["pass_rate"], r["median_decode_tps"]) for r in leaderboard])
    lines = ["# Beyond Vibes report", "",
             f"Harness commit `{manifest.get('harness_commit')}`{' (dirty)' if manifest.get('harness_dirty') else ''}; "
             f"generated {manifest.get('generated_at')}. Canonical sampling only (temperature 0). "
             "Pass rate is the mean of per-pack pass rates over answered items; its 95% interval pools the per-pack "
             "Agresti-Coull variances, so the rate always lies inside it. "
             "Failed calls (timeouts, dead endpoints) are counted apart and never scored as answers.", "",
             "## Leaderboard", ""]
    header = ["#", "variant", "pass rate", "95% CI", "passed", "failed calls", *tasks,
              "TTFT s (median)", "decode tok/s client", "decode tok/s server", "probe prefill tok/s",
              "probe gen tok/s (server / client)", "llama-bench pp/tg", "perplexity", "peak RSS MB", "frontier"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, r in enumerate(leaderboard, 1):
        lo, hi = r.get("ci_low"), r.get("ci_high")
        per_task = []
        for t in tasks:
            c = cells.get((r["variant"], t))
            per_task.append(f"{c['n_passed']}/{c['n']}" if c else "—")
        bench = f"{_f(r['bench_pp_tps'], 0)} / {_f(r['bench_tg_tps'], 0)}" if r.get("bench_pp_tps") else "—"
        probe_gen = f"{_f(r['probe_gen_tps'])} / {_f(r['probe_client_decode_tps'])}" if r.get("probe_gen_tps") else "—"
        rss = _f(r["peak_rss_bytes"] / 1e6, 0) if r.get("peak_rss_bytes") else "—"
        lines.append("| " + " | ".join([
            str(i), f"`{r['variant']}`", _f(100 * r["pass_rate"], 1, "%") if r["pass_rate"] is not None else "—",
            f"{100 * lo:.0f}–{100 * hi:.0f}%" if lo is not None else "—", f"{r['n_passed']}/{r['n_answered']}", str(r["n_failed_calls"]), *per_task, _f(r["median_ttft_s"], 3),
            _f(r["median_decode_tps"]), _f(r["median_server_predicted_tps"]), _f(r.get("probe_prompt_tps")),
            probe_gen, bench, _f(r.get("perplexity"), 2), rss, "★" if r["variant"] in front else "",
        ]) + " |")
    lines += ["", "★ = on the quality-vs-speed frontier (no other variant is both better and faster).", ""]
    if difficulty:
        levels = [lv for lv in ("easy", "medium", "hard") if any(d["difficulty"] == lv for d in difficulty)]
        by = {(d["variant"], d["difficulty"]): d for d in difficulty}
        lines += ["## By difficulty", "", "| variant | " + " | ".join(levels) + " |", "|---|" + "---|" * len(levels)]
        for r in leaderboard:
            cells = [f"{by[(r['variant'], lv)]['n_passed']}/{by[(r['variant'], lv)]['n']}" if (r["variant"], lv) in by else "—"
                     for lv in levels]
            lines.append(f"| `{r['variant']}` | " + " | ".join(cells) + " |")
        lines.append("")
    lines += list(sims)
    lines += list(extra)
    lines += ["## Model files", "", "| weights | origin | sha256 | size MB | file type |", "|---|---|---|---|---|"]
    for w in weights:
        how = w["origin"] + (f" from {w['derived_from']} (llama-quantize)" if w.get("derived_from") else "")
        lines.append(f"| `{w['weights_key']}` | {how} | `{w['sha256'][:16]}` | {w['size_bytes'] / 1e6:.1f} | {w['file_type']} |")
    if failures:
        lines += ["", "## Failed calls", "", "| variant | failure mode | count |", "|---|---|---|"]
        lines += [f"| `{f['variant']}` | {f['failure_mode']} | {f['n']} |" for f in failures]
    lines += ["", "## Reproduce", "",
              "Every figure comes from rows in the warehouse (`samples`, `probes`, `runs`, `weights`); "
              "the `runs` table records the harness commit, model sha256, engine build, server props and sampling "
              "parameters of each (variant, pack) result.", ""]
    return "\n".join(lines)
