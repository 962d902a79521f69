"""The report's judges section (pure: rows in, Markdown lines out): what each judge program agrees with people on
held-out labels (compiled, uncompiled baseline, MLflow's judge), and per variant x archetype each criterion's mean
judge score with a bootstrap 95% interval, the judges' spread, and untrusted judges marked.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..stats import bootstrap_mean


def _f(value: Any, digits: int = 2) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def summarize_scores(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (variant, archetype, rubric, criterion): the mean over episodes of the judges' median score,
    its bootstrap 95% interval, the spread between judges' means, failed calls, and whether every judge is trusted."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["variant"], r["archetype"], r["rubric"], r["criterion"])].append(r)
    out = []
    for (variant, archetype, rubric, criterion), items in sorted(groups.items()):
        per_episode: dict[str, list[int]] = defaultdict(list)
        per_judge: dict[str, list[int]] = defaultdict(list)
        for r in items:
            if r["score"] is not None:
                per_episode[r["episode_id"]].append(r["score"])
                per_judge[r["judge"]].append(r["score"])
        medians = [statistics.median(v) for v in per_episode.values()]
        mean, lo, hi = bootstrap_mean(medians) if medians else (None, None, None)
        judge_means = [sum(v) / len(v) for v in per_judge.values()]
        out.append({"variant": variant, "archetype": archetype, "rubric": rubric, "criterion": criterion,
                    "episodes": len({r["episode_id"] for r in items}), "scored": len(medians), "mean": mean,
                    "low": lo, "high": hi, "judges": len({r["judge"] for r in items}),
                    "spread": max(judge_means) - min(judge_means) if len(judge_means) > 1 else None,
                    "failed": sum(1 for r in items if r["score"] is None),
                    "trusted": all(r["trusted"] for r in items),
                    "kappa": min((r["program_kappa"] for r in items if r["program_kappa"] is not None), default=None)})
    return out


def _unmeasured(programs: Sequence[dict[str, Any]]) -> list[str]:
    """Which comparisons a judge lacks (the default demo measures only the compiled program) and how to add them."""
    have: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in programs:
        have[(p["rubric"], p["judge"])].add(p["program"])
    missing = sorted({what for got in have.values()
                      for program, what in (("baseline", "uncompiled baseline"), ("make_judge", "MLflow make_judge"))
                      if "compiled" in got and program not in got})
    if not missing:
        return []
    lacking = sorted(f"{r} / {j}" for (r, j), got in have.items()
                     if "compiled" in got and not {"baseline", "make_judge"} <= got)
    return ["", f"Not measured for {', '.join(lacking)}: the {' and the '.join(missing)} (the default demo measures "
                "the compiled program's agreement only; `beyond-vibes judges compile` or `demo --full` adds the "
                "comparisons without recompiling). Trust is decided on the compiled program either way."]


def render_judges(programs: Sequence[dict[str, Any]], scores: Sequence[dict[str, Any]]) -> list[str]:
    if not programs and not scores:
        return []
    lines = ["## Judges", "",
             "LLM judges score what deterministic criteria cannot (a plan's specificity, a refactor's hygiene). Each "
             "rubric's judge is a DSPy program compiled against human labels (`judges/labels/`); its agreement with "
             "people is measured on held-out labels — quadratic-weighted Cohen's κ, Spearman ρ, share within ±1, "
             "mean bias (judge − human) — for the compiled program, its uncompiled baseline and MLflow's "
             "`make_judge` on the same judge model. Trust is decided on the low end of κ's 95% bootstrap interval: a "
             "judge whose interval reaches below the threshold is **not trusted**: its scores are shown, marked, and "
             "should not be read as quality.", "",
             "| rubric | judge | backend | program | held-out | scored | κ (95% bootstrap) | ρ | within ±1 | bias | "
             "trusted |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in programs:
        trusted = "yes" if p["trusted"] else f"**no** ({p['trust_reason']})"
        span = f" ({_f(p.get('kappa_low'))}–{_f(p.get('kappa_high'))})" if p.get("kappa_low") is not None else ""
        lines.append(f"| {p['rubric']} | {p['judge']} | {p['backend']} | {p['program']} | {p['n_held_out']} | "
                     f"{p['scored']} | {_f(p['kappa'])}{span} | {_f(p['spearman'])} | {_f(p['within_1'])} | "
                     f"{_f(p['bias'])} | {trusted} |")
    lines += _unmeasured(programs)
    summary = summarize_scores(scores)
    if summary:
        lines += ["", "Judge scores (1-5) of canonical episodes: per episode the judges' median, then the mean over "
                  "episodes with a bootstrap 95% interval. ⚠ = scored by a judge that is not trusted.", "",
                  "| variant | archetype | rubric / criterion | mean | 95% CI | episodes scored | failed calls | "
                  "judges (spread) | κ |", "|---|---|---|---|---|---|---|---|---|"]
        for s in summary:
            mark = "" if s["trusted"] else " ⚠"
            ci = ("n = 1: no interval" if s["scored"] == 1 else
                  f"{s['low']:.1f}–{s['high']:.1f}" if s["low"] is not None else "—")
            spread = f"{s['judges']} ({_f(s['spread'], 1)})" if s["spread"] is not None else str(s["judges"])
            lines.append(f"| `{s['variant']}` | {s['archetype']} | {s['rubric']} / {s['criterion']}{mark} | "
                         f"{_f(s['mean'], 1)} | {ci} | {s['scored']}/{s['episodes']} | {s['failed']} | {spread} | "
                         f"{_f(s['kappa'])} |")
        lines += ["", "Rationales per episode: `beyond-vibes inspect --episode EPISODE` or the episode's MLflow trace "
                  "(assessments)."]
    return lines + [""]
