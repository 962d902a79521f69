"""Render the Markdown report from warehouse rows (pure: rows in, text out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..catalog.quants import bounded_by
from ..stats import pareto_front, wilson


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


def render_series(rows: Sequence[dict]) -> list[str]:
    """The harness comparison: each sim's success per series (canonical vs pi, native tool calls, ...), row by row.
    Only the canonical series feeds the headline, history and the gate."""
    series = sorted({r["series"] for r in rows}, key=lambda s: (s != "canonical", s))
    if len(series) < 2:
        return []
    cells = {(r["variant"], r["sim"], r["series"]): r for r in rows}
    lines = ["## Harness comparison", "", "Success of each sim per series of runs: `canonical` is the default harness "
             "and settings (the only series in the headline, history and gate); the others are labelled by what "
             "differs (an external harness, native tool calls, switches, a shorter timeout, repeats). pass^k ✓ = every "
             "one of k repeated episodes succeeded.", "",
             "| variant | sim | " + " | ".join(series) + " |", "|---|---|" + "---|" * len(series)]
    def cell(c: dict | None) -> str:
        if c is None:
            return "—"
        hat = f" (pass^{c['n']} {'✓' if c['n_success'] == c['n'] else '✗'})" if c["n"] > 1 else ""
        return f"{c['n_success']}/{c['n']}{hat}"

    for variant, sim in sorted({(r["variant"], r["sim"]) for r in rows}):
        row = [cell(cells.get((variant, sim, s))) for s in series]
        lines.append(f"| `{variant}` | {sim} | " + " | ".join(row) + " |")
    return lines + [""]


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


def render_latency(rows: Sequence[dict], labels: dict[str, str]) -> list[str]:
    if not rows:
        return []
    lines = ["## Latency distributions", "", "Answered calls of canonical runs; tail percentiles beside the medians.", "",
             "| variant | calls | TTFT s p50 / p90 / p99 | latency s p50 / p90 / p99 | decode tok/s p50 / p10 / p1 |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{labels.get(r['variant'], r['variant'])}` | {r['n']} | "
                     f"{_f(r['ttft_p50'], 3)} / {_f(r['ttft_p90'], 3)} / {_f(r['ttft_p99'], 3)} | "
                     f"{_f(r['latency_p50'], 2)} / {_f(r['latency_p90'], 2)} / {_f(r['latency_p99'], 2)} | "
                     f"{_f(r['decode_tps_p50'])} / {_f(r['decode_tps_p10'])} / {_f(r['decode_tps_p01'])} |")
    return lines + [""]


def render_paired(results: Sequence[dict], labels: dict[str, str], title: str = "Paired comparisons") -> list[str]:
    results = [r for r in results if r["items"]]
    if not results:
        return []
    lines = [f"## {title}", "", "Same items on both sides: a model failure (code that never ends, a timeout) is a "
             "wrong answer; an item either side lost to the machine (dead endpoint, sandbox error) is dropped, and "
             "the dropped counts are shown. B - A in points with a 95% paired bootstrap interval (seed 0) and "
             "McNemar's exact test; a difference is called only when the interval excludes 0 and p < 0.05.", "",
             "| A (reference) | B | why | items | dropped A / B | A only / B only | B - A | 95% CI | McNemar p | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| `{labels.get(r['a'], r['a'])}` | `{labels.get(r['b'], r['b'])}` | {r['why']} | {r['items']} | "
                     f"{r.get('dropped_a', 0)} / {r.get('dropped_b', 0)} | "
                     f"{r['a_only']} / {r['b_only']} | {100 * r['diff']:+.1f} | "
                     f"{100 * r['diff_low']:+.1f} – {100 * r['diff_high']:+.1f} | {r['p_mcnemar']:.3g} | {r['verdict']} |")
    return lines + [""]


def render_lmeval(rows: Sequence[dict], labels: dict[str, str]) -> list[str]:
    """Standard benchmarks through lm-evaluation-harness: lm-eval's metric and stderr, as lm-eval reports them."""
    if not rows:
        return []
    lines = ["## Standard benchmarks (lm-evaluation-harness)", "", "lm-eval built the prompts and computed the "
             "metrics; answers came from the same served variants (chat template applied by the server where on). "
             "± is lm-eval's standard error.", "",
             "| task | variant | metric | value | ± stderr | docs | failed calls | few-shot | chat template | lm-eval |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['lm_task']} | `{labels.get(r['variant'], r['variant'])}` | {r['metric']} | {_f(r['value'], 3)} | "
                     f"{_f(r['stderr'], 3)} | {r['n']} | {r['n_failed_calls']} | {_f(r['num_fewshot'])} | "
                     f"{'on' if r['apply_chat_template'] else 'off'} | {r['lm_eval_version']} |")
    return lines + [""]


def render_history(rows: Sequence[dict], flagged: dict, labels: dict[str, str]) -> list[str]:
    """One line per current variant x task: how many canonical runs, the latest rate, the mean before it."""
    if not rows:
        return []
    series: dict[tuple[str, str, str], list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["recorded_at"]):
        series.setdefault((r["kind"], r["variant"], r["task"]), []).append(r)
    lines = ["## History and regressions", "", "Every canonical run appends a row to `score_history`. A run more than "
             "2σ below the mean of its own earlier runs (at least 3; σ floored at the binomial standard error) is a "
             "regression. `beyond-vibes gate --baseline NAME` is the same question for CI.", "",
             "| variant | kind | task | runs | latest | mean before | latest run | flag |", "|---|---|---|---|---|---|---|---|"]
    for (kind, variant, task), pts in sorted(series.items()):
        last = pts[-1]
        earlier = [p["rate"] for p in pts[:-1] if p["rate"] is not None]
        mean = sum(earlier) / len(earlier) if earlier else None
        flags = []
        if (kind, variant, task, len(pts) - 1) in flagged:
            flags.append("REGRESSION")
        if last.get("slowed"):
            seen = f": {last['foreign_load']}" if last.get("foreign_load") else ""
            flags.append(f"⚠ slowed (others used {100 * (last.get('foreign_cpu_share') or 0):.0f}% of the CPU{seen})")
        scored = (last["n"] or 0) - (last["n_failed_calls"] or 0)
        latest = f"{last['n_passed']}/{scored}" + (f" ({100 * last['rate']:.0f}%)" if last["rate"] is not None else "")
        lines.append(f"| `{labels.get(variant, variant)}` | {kind} | {task} | {len(pts)} | {latest} | "
                     f"{_f(100 * mean if mean is not None else None, 0, '%')} | {last['recorded_at']:%Y-%m-%d %H:%M} | "
                     f"{', '.join(flags)} |")
    return lines + [""]


def judged_packs(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per pack with llm_judge items (pure): its judge, whether every scored verdict says trusted, why, and how many
    verdicts the judge failed to give."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        detail = json.loads(r["verdict_detail"] or "{}")
        pack = out.setdefault(r["task"], {"judge": None, "trusted": True, "trust_reason": None, "n": 0,
                                          "n_judge_failed": 0})
        pack["n"] += 1
        pack["judge"] = pack["judge"] or detail.get("judge")
        pack["trust_reason"] = pack["trust_reason"] or detail.get("trust_reason")
        pack["trusted"] = pack["trusted"] and detail.get("trusted") is True
        pack["n_judge_failed"] += r["failure_mode"] == "judge_failure"
    return out


def judged_notes(judged: dict[str, dict[str, Any]]) -> list[str]:
    """Below the per-pack table: which packs a model judged (⚖) and whether that judge earned trust (⚠ if not)."""
    if not judged:
        return []
    lines = ["", "⚖ = scored by an LLM judge (`verifier: llm_judge`); ⚠ = that judge's agreement with people was not "
             "measured on the pack's labels, or fell short: read those rates as the judge's opinion, not as quality."]
    for task, r in sorted(judged.items()):
        failed = f", {r['n_judge_failed']} judge failure(s) left out" if r.get("n_judge_failed") else ""
        trust = "trusted" if r["trusted"] else "**not trusted**"
        lines.append(f"- `{task}`: judge {r['judge']}, {trust} ({r.get('trust_reason') or 'no reason recorded'}){failed}")
    return lines


def render(data: dict[str, Any]) -> str:
    """The Markdown report from the gathered rows (report/data.py): terminals, PR comments, and the HTML body."""
    leaderboard, matrix, labels = data["leaderboard"], data["matrix"], data.get("labels", {})
    manifest, slowed = data["manifest"], data.get("slowed", {})
    tasks = sorted({r["task"] for r in matrix})
    cells = {(r["variant"], r["task"]): r for r in matrix}
    ranked = [r for r in leaderboard if r.get("complete")]
    front = pareto_front([(r["variant"], r["pass_rate"], r["median_decode_tps"]) for r in ranked])
    lines = ["# Beyond Vibes report", "",
             f"Harness commit `{manifest.get('harness_commit')}`{' (dirty)' if manifest.get('harness_dirty') else ''}; "
             f"generated {manifest.get('generated_at')}. Canonical sampling only (temperature 0). "
             "Pass rate is strict: the mean of per-pack rates of passed items over every item asked, where the model's "
             "failures (code that never ends, a timeout on an unloaded machine, context overflow, a malformed reply) "
             "count as wrong and the machine's (dead endpoint, sandbox error) are left out and shown as failed calls; "
             "the rate over the answers the model gave is beside it. Its 95% interval is Wald-type around the rate, "
             "pooling the per-pack Agresti-Coull variances, clipped to [0, 1].", "",
             "## Leaderboard", ""]
    pack_set = ", ".join(f"`{t}`" for t in tasks) or "none"
    incomplete = [r for r in leaderboard if not r.get("complete")]
    lines += [f"Ranked over the same {len(tasks)} pack(s) for every ranked variant: {pack_set}. "
              + (f"{len(incomplete)} variant(s) lack some of them: shown below with their coverage, not ranked."
                 if incomplete else "Every variant has all of them."), ""]
    # three tables that each fit a page: the ranking, the per-pack cells, the speed and resources
    header = ["#", "variant", "pass rate", "95% CI", "answered rate", "passed", "model failures", "failed calls",
              "coverage", "frontier", "trust"]
    judged = data.get("judged_packs", {})
    packs_header = ["variant", *(f"{t} ⚖{'' if judged[t]['trusted'] else ' ⚠'}" if t in judged else t for t in tasks)]
    speed_header = ["variant", "TTFT s (median)", "decode tok/s client", "decode tok/s server", "probe prefill tok/s",
                    "probe gen tok/s (server / client)", "llama-bench pp/tg", "perplexity", "peak RSS MB"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    packs_lines = ["| " + " | ".join(packs_header) + " |", "|" + "---|" * len(packs_header)]
    speed_lines = ["| " + " | ".join(speed_header) + " |", "|" + "---|" * len(speed_header)]
    for r in leaderboard:
        lo, hi = r.get("ci_low"), r.get("ci_high")
        name = f"`{labels.get(r['variant'], r['variant'])}`"
        per_task = []
        for t in tasks:
            c = cells.get((r["variant"], t))
            mark = (" ⚠" if (r["variant"], t) in slowed else "") + (" ⟳" if c and c.get("n_stale") else "")
            per_task.append(f"{c['n_passed']}/{c['n_scored']}{mark}" if c else "—")
        bench = f"{_f(r['bench_pp_tps'], 0)} / {_f(r['bench_tg_tps'], 0)}" if r.get("bench_pp_tps") else "—"
        probe_gen = f"{_f(r['probe_gen_tps'])} / {_f(r['probe_client_decode_tps'])}" if r.get("probe_gen_tps") else "—"
        rss = _f(r["peak_rss_bytes"] / 1e6, 0) if r.get("peak_rss_bytes") else "—"
        trust = [f"⚠ slowed during {', '.join(sorted(t for v, t in slowed if v == r['variant']))}"] if any(
            v == r["variant"] for v, _ in slowed) else []
        if r.get("n_stale"):
            trust.append(f"⟳ {r['n_stale']} answer(s) in {r['stale_packs']} pack(s) scored under an older pack version")
        if r["variant"] in data.get("bounded", {}):
            trust.append(f"quality bounded by its {data['bounded'][r['variant']]} source")
        lines.append("| " + " | ".join([
            str(r["ranking"]) if r.get("ranking") else "incomplete", name,
            _f(100 * r["pass_rate"], 1, "%") if r["pass_rate"] is not None else "—",
            f"{100 * lo:.0f}–{100 * hi:.0f}%" if lo is not None else "—",
            _f(100 * r["answered_rate"], 1, "%") if r.get("answered_rate") is not None else "—",
            f"{r['n_passed']}/{r['n_scored']}", str(r.get("n_model_failed") or 0), str(r["n_failed_calls"]),
            f"{r['packs']}/{r['packs_total']}", "★" if r["variant"] in front else "", "; ".join(trust),
        ]) + " |")
        packs_lines.append("| " + " | ".join([name, *per_task]) + " |")
        speed_lines.append("| " + " | ".join([
            name, _f(r["median_ttft_s"], 3), _f(r["median_decode_tps"]), _f(r["median_server_predicted_tps"]),
            _f(r.get("probe_prompt_tps")), probe_gen, bench, _f(r.get("perplexity"), 2), rss]) + " |")
    lines += ["", "### Per pack (passed / scored)", "", *packs_lines, *judged_notes(judged), "",
              "### Speed and resources", "", *speed_lines]
    lines += ["", "★ = on the quality-vs-speed frontier (no other variant is both better and faster). "
              "⚠ = while the answers were generated, other processes used more than the allowed share of the "
              "machine's CPU, so its speed figures (and any timeouts) are not the engine's own. "
              "\"(≤ Qx source)\" = a quant derived upward from a lower-precision file: its quality is bounded by "
              "that source. ⟳ = some of these answers were scored under an older version of the pack (its items or "
              "verifier changed since): they still count until the partition is re-run, which re-scores them.", ""]
    difficulty = data.get("difficulty", ())
    if difficulty:
        levels = [lv for lv in ("easy", "medium", "hard") if any(d["difficulty"] == lv for d in difficulty)]
        by = {(d["variant"], d["difficulty"]): d for d in difficulty}
        lines += ["## By difficulty", "", "| variant | " + " | ".join(levels) + " |", "|---|" + "---|" * len(levels)]
        for r in leaderboard:
            row = [f"{by[(r['variant'], lv)]['n_passed']}/{by[(r['variant'], lv)]['n']}" if (r["variant"], lv) in by else "—"
                   for lv in levels]
            lines.append(f"| `{labels.get(r['variant'], r['variant'])}` | " + " | ".join(row) + " |")
        lines.append("")
    lines += render_latency(data.get("latency", ()), labels)
    lines += render_paired(data.get("paired", ()), labels)
    lines += render_lmeval(data.get("lmeval", ()), labels)
    lines += render_paired(data.get("paired_lmeval", ()), labels, "Paired comparisons on lm-eval documents")
    lines += render_history(data.get("history", ()), data.get("flagged", {}), labels)
    lines += list(data.get("sims", ()))
    lines += list(data.get("judges", ()))
    lines += ["## Model files", "", "| weights | origin | sha256 | size MB | file type |", "|---|---|---|---|---|"]
    for w in data.get("weights", ()):
        how = w["origin"] + (f" from {w['derived_from']} (llama-quantize)" if w.get("derived_from") else "")
        if bounded_by(w["quant"] or "", w.get("derived_from")):
            how += f"; quality bounded by its {w['derived_from']} source"
        lines.append(f"| `{w['weights_key']}` | {how} | `{w['sha256'][:16]}` | {w['size_bytes'] / 1e6:.1f} | {w['file_type']} |")
    failures = data.get("failures", ())
    if failures:
        lines += ["", "## Failures", "", "The model's count as wrong answers; the machine's are left out of every rate "
                  "and re-tried on the next run.", "", "| variant | failure mode | owner | count |", "|---|---|---|---|"]
        lines += [f"| `{f['variant']}` | {f['failure_mode']} | {f.get('owner', 'machine')} | {f['n']} |" for f in failures]
    lines.append("")
    lines += list(data.get("extra", ()))
    lines += ["## Reproduce", "",
              "Every figure comes from rows in the warehouse (`samples`, `probes`, `runs`, `weights`, `score_history`); "
              "the `runs` table records the harness commit, model sha256, engine build, server props and sampling "
              "parameters of each (variant, pack) result.", ""]
    return "\n".join(lines)
