"""The report's plots as inline SVG strings (matplotlib, offline, no CDN): rows in, SVG out.

Each function returns None when it has nothing to draw, so the page never shows an empty frame.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..stats import pareto_front, wilson


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "beyond-vibes"})  # stable ids: the same data gives the same file
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG is inlined in HTML


def _bar(passed: int, n: int) -> tuple[float, float, float]:
    """(rate %, error below, error above) of a Wilson interval; float rounding must not make an error negative."""
    rate = passed / n
    lo, hi = wilson(int(passed), int(n))
    return 100 * rate, max(0.0, 100 * (rate - lo)), max(0.0, 100 * (hi - rate))


def _grouped_bars(ax, cells: dict[tuple[str, str], tuple[int, int]], variants: list[str], groups: list[str],
                  labels: dict[str, str], horizontal: bool) -> float:
    """One bar per (group, variant) with its Wilson interval; cells = {(variant, group): (passed, n)}, n > 0.
    Returns the bar thickness (the caller centres its group ticks with it)."""
    size = 0.8 / len(variants)
    for j, v in enumerate(variants):
        at, pct, errs = [], [], [[], []]
        for i, g in enumerate(groups):
            if (v, g) in cells:
                value, below, above = _bar(*cells[(v, g)])
                at.append(i + j * size)
                pct.append(value)
                errs[0].append(below)
                errs[1].append(above)
        style = {"capsize": 2, "label": labels.get(v, v), "error_kw": {"lw": 0.8}, "color": f"C{j % 10}"}
        if horizontal:
            ax.barh(at, pct, height=size, xerr=errs, **style)
        else:
            ax.bar(at, pct, width=size, yerr=errs, **style)
        # a 0% bar has no area: mark it, so "measured and 0%" never looks like "not measured"
        for a in (a for a, value in zip(at, pct) if value == 0):
            xy = (0.0, a) if horizontal else (a, 0.0)
            line = ax.vlines if horizontal else ax.hlines
            line(0.0, a - size / 2, a + size / 2, color=f"C{j % 10}", lw=3, zorder=3, clip_on=False)
            ax.annotate("0%", xy, xytext=(4, 0) if horizontal else (0, 4), textcoords="offset points", fontsize=7,
                        ha="left" if horizontal else "center", va="center" if horizontal else "bottom")
    return size


def frontier(leaderboard: Sequence[dict[str, Any]], labels: dict[str, str]) -> str | None:
    """Quality (headline rate with its interval) against decode speed; the frontier as a step line. Like with like:
    only variants ranked over the full pack set (leaderboard `complete`) are drawn."""
    pts = [r for r in leaderboard if r.get("pass_rate") is not None and r.get("median_decode_tps")
           and r.get("complete", True)]
    if not pts:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    front = pareto_front([(r["variant"], r["pass_rate"], r["median_decode_tps"]) for r in pts])
    for r in pts:
        on = r["variant"] in front
        rate, lo, hi = 100 * r["pass_rate"], 100 * (r["ci_low"] or 0), 100 * (r["ci_high"] or 1)
        ax.errorbar(r["median_decode_tps"], rate, yerr=[[max(0.0, rate - lo)], [max(0.0, hi - rate)]], fmt="o" if on else "s",
                    color="#1f6feb" if on else "#8b949e", capsize=3, markersize=6)
        ax.annotate(labels.get(r["variant"], r["variant"]), (r["median_decode_tps"], rate), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    line = sorted(((r["median_decode_tps"], 100 * r["pass_rate"]) for r in pts if r["variant"] in front), reverse=True)
    ax.step([x for x, _ in line], [y for _, y in line], where="post", color="#1f6feb", alpha=0.5, label="frontier")
    ax.set_xlabel("decode tok/s (median, client-measured)")
    ax.set_ylabel("pass rate % (95% interval)")
    ax.set_title("Quality vs speed")
    ax.legend(loc="lower left", fontsize=7)
    return _svg(fig)


def pack_rates(matrix: Sequence[dict[str, Any]], labels: dict[str, str]) -> str | None:
    """Per-pack pass rates per variant with 95% Wilson intervals (grouped horizontal bars)."""
    rows = [r for r in matrix if r.get("n_scored")]
    if not rows:
        return None
    plt = _plt()
    tasks = sorted({r["task"] for r in rows})
    variants = sorted({r["variant"] for r in rows})
    fig, ax = plt.subplots(figsize=(7.5, 0.5 + 0.28 * len(tasks) * len(variants)))
    cells = {(r["variant"], r["task"]): (r["n_passed"], r["n_scored"]) for r in rows}
    height = _grouped_bars(ax, cells, variants, tasks, labels, horizontal=True)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(tasks))], tasks)
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate % (95% Wilson interval)")
    ax.set_title("Per-pack pass rates")
    ax.legend(fontsize=7, loc="lower right")
    return _svg(fig)


def latency(samples: Sequence[dict[str, Any]], labels: dict[str, str]) -> str | None:
    """Distributions of TTFT and decode tok/s per variant (box: quartiles, whiskers: 5th-95th percentile)."""
    by: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"ttft_s": [], "decode_tps": []})
    for r in samples:
        for k in ("ttft_s", "decode_tps"):
            if r.get(k) is not None:
                by[r["variant"]][k].append(r[k])
    variants = sorted(v for v in by if by[v]["ttft_s"] or by[v]["decode_tps"])
    if not variants:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.8 + 0.35 * len(variants)))
    for ax, key, title in ((axes[0], "ttft_s", "TTFT s"), (axes[1], "decode_tps", "decode tok/s")):
        data = [by[v][key] or [float("nan")] for v in variants]
        ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=True, flierprops={"markersize": 2})
        ax.set_yticks(range(1, len(variants) + 1), [labels.get(v, v) for v in variants] if ax is axes[0] else [""] * len(variants))
        ax.set_title(title)
    fig.suptitle("Latency distributions (answered calls)")
    return _svg(fig)


def history(rows: Sequence[dict[str, Any]], flagged: set[tuple[str, str, str, int]], labels: dict[str, str]) -> str | None:
    """Small multiples: one panel per task (pack, sim or lm-eval task), one line per variant, one shared legend; a
    red cross marks a point the sigma rule flags as a regression. (One axis with a line per variant x task and its
    legend grew larger than the plot at 40 series.)"""
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["recorded_at"]):
        if r.get("rate") is not None:
            series[(r["kind"], r["variant"], r["task"])].append(r)
    if not series:
        return None
    plt = _plt()
    panels = sorted({(kind, task) for kind, _, task in series})
    variants = sorted({variant for _, variant, _ in series})
    colors = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    cols = min(3, len(panels))
    rows_n = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(9, 0.6 + 2.1 * rows_n), sharey=True, squeeze=False)
    for ax, (kind, task) in zip(axes.flat, panels):
        for variant in variants:
            points = series.get((kind, variant, task))
            if not points:
                continue
            xs = list(range(1, len(points) + 1))
            ax.plot(xs, [100 * p["rate"] for p in points], marker=".", lw=1, color=colors[variant])
            bad = [i for i in range(len(points)) if (kind, variant, task, i) in flagged]
            if bad:
                ax.scatter([xs[i] for i in bad], [100 * points[i]["rate"] for i in bad], marker="x", s=50,
                           color="red", zorder=3)
        ax.set_title(f"{task} ({kind})", fontsize=8)
        ax.set_ylim(-5, 105)
        longest = max(len(series.get((kind, v, task), [])) for v in variants)
        ax.set_xlim(0.5, longest + 0.5)  # whole measurements only: one point is at 1, not on an axis of 0.96-1.04
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, min_n_ticks=1))  # two ticks would need fractions
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("pass rate %", fontsize=7)
    handles = [plt.Line2D([], [], color=colors[v], marker=".", lw=1) for v in variants]
    handles.append(plt.Line2D([], [], color="red", marker="x", lw=0))
    fig.legend(handles, [labels.get(v, v) for v in variants] + ["regression (sigma rule)"], loc="lower center",
               ncol=min(4, len(handles)), fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("History per task: measurements in order (canonical runs)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(handles) // 4), 1, 1))
    return _svg(fig)


def archetypes(by_archetype: Sequence[dict[str, Any]], labels: dict[str, str]) -> str | None:
    """Simulation success per archetype and variant with 95% Wilson intervals."""
    if not by_archetype:
        return None
    plt = _plt()
    kinds = sorted({r["archetype"] for r in by_archetype})
    variants = sorted({r["variant"] for r in by_archetype})
    cells = {(r["variant"], r["archetype"]): (r["n_success"], r["n"]) for r in by_archetype if r["n"]}
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    width = _grouped_bars(ax, cells, variants, kinds, labels, horizontal=False)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(kinds))], kinds)
    ax.set_ylim(0, 100)
    ax.set_ylabel("episodes succeeded % (95% Wilson)")
    ax.set_title("Simulations per archetype")
    ax.legend(fontsize=7)
    return _svg(fig)
