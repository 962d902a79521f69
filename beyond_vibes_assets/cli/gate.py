"""`beyond-vibes baseline save NAME` and `beyond-vibes gate --baseline NAME`: the CI form of "did it get worse?".

`gate` prints every regression as a table and exits 1 if there is one, 0 otherwise: a rate down more than
`--max-drop` points against the baseline, a latency up (or decode speed down) more than `--max-latency-rise` %,
a scored partition that vanished, and (unless `--no-sigma`) the sigma rule over each variant x task's history.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.table import Table

from ..history import gate_regressions, latest_regressions, save_baseline
from .gate_reports import as_json, as_junit, as_markdown


def cmd_baseline_save(args: argparse.Namespace, console: Any, warehouse: Any) -> int:
    n = save_baseline(warehouse, args.name)
    if getattr(args, "json", False):
        print(json.dumps({"baseline": args.name, "saved": n}))
    if not n:
        print("no current canonical scores to save: run packs or sims first", file=sys.stderr)
        return 3  # a missing input
    if not getattr(args, "json", False):
        console.print(f"baseline {args.name!r} saved: {n} variant x task score(s)")
    return 0


def _fmt(value: Any, field: str) -> str:
    if value is None:
        return "—"
    if field == "rate":
        return f"{100 * value:.1f}%"
    return f"{value:.3g}"


def cmd_gate(args: argparse.Namespace, console: Any, warehouse: Any) -> int:
    try:
        baseline = warehouse.query("SELECT * FROM baselines WHERE baseline = ?", [args.baseline], read_only=True)
        names = [r["baseline"] for r in warehouse.query("SELECT DISTINCT baseline FROM baselines ORDER BY 1",
                                                         read_only=True)] if not baseline else []
    except Exception as exc:  # noqa: BLE001 - no warehouse yet (a fresh home): there is no baseline to compare with
        if "does not exist" not in str(exc) and "No such file" not in str(exc):
            raise
        baseline, names = [], []
    if not baseline:
        print(f"no baseline {args.baseline!r}; saved baselines: {', '.join(names) or 'none'} "
              f"(save one with `beyond-vibes baseline save {args.baseline}`)", file=sys.stderr)
        return 3  # a missing input, not a usage error (2) nor a regression (1)
    current = warehouse.query("SELECT * FROM current_scores", read_only=True)
    found = gate_regressions(baseline, current, max_drop=args.max_drop, max_latency_rise=args.max_latency_rise)
    if not args.no_sigma:
        history = warehouse.query("SELECT * FROM score_history", read_only=True)
        found += [{**r, "was": r["mean"], "now": r["rate"],
                   "detail": f"{r['drop'] * 100:.1f} points below its mean of {r['points']} earlier runs "
                             f"(threshold {100 * r['threshold']:.1f}%)"} for r in latest_regressions(history)]
        found = [r for r in found if r["rule"] != "sigma" or (r["kind"], r["variant"], r["task"]) in
                 {(c["kind"], c["variant"], c["task"]) for c in current}]
    blocking = [r for r in found if r.get("blocking", True)]
    _write_reports(args, baseline, current, found)
    if args.json:
        print(as_json(args.baseline, baseline, current, found))
        return 1 if blocking else 0
    if not blocking:
        noted = f"; {len(found)} not comparable (the task changed: a new series)" if found else ""
        console.print(f"gate passed: {len(current)} current score(s) against baseline {args.baseline!r} "
                      f"(max drop {args.max_drop:g} points, max latency rise {args.max_latency_rise:g}%){noted}")
        return 0
    table = Table(title=f"{len(blocking)} regression(s) against baseline {args.baseline!r}"
                        + (f", {len(found) - len(blocking)} not comparable" if len(found) > len(blocking) else ""))
    for col in ("kind", "variant", "task", "rule", "was", "now", "detail"):
        table.add_column(col)
    for r in found:
        field = "rate" if r["rule"] in ("rate", "sigma", "missing", "not comparable") else r["rule"]
        table.add_row(r["kind"], r["variant"], r["task"], r["rule"], _fmt(r["was"], field), _fmt(r["now"], field),
                      r["detail"])
    console.print(table)
    return 1 if blocking else 0


def _write_reports(args: argparse.Namespace, baseline: list, current: list, found: list) -> None:
    """--junit-xml PATH and --markdown (appended to $GITHUB_STEP_SUMMARY when CI sets it, else printed)."""
    import os
    from pathlib import Path

    if getattr(args, "junit_xml", None):
        Path(args.junit_xml).write_text(as_junit(args.baseline, baseline, found))
    if getattr(args, "markdown", False):
        text = as_markdown(args.baseline, baseline, current, found)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a") as fh:
                fh.write(text)
        else:
            print(text)
