"""`beyond-vibes inspect`: failures with reasons, one sample in full, or two runs compared item by item."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from resources.warehouse import WarehouseResource

COLUMNS = "variant, task, sample_id, passed, score, failure_mode, verdict_reason, run_id"


def _rows(warehouse: WarehouseResource, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return warehouse.query(sql, params, read_only=True)


def _filters(args) -> tuple[str, list[Any]]:
    where, params = [], []
    if args.variant:
        where.append("variant = ?")
        params.append(args.variant)
    if args.pack:
        where.append("task = ?")
        params.append(args.pack)
    return (" AND ".join(where) or "TRUE"), params


def side(warehouse: WarehouseResource, key: str, pack: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of one run id, or of one variant's current results."""
    sql = f"SELECT {COLUMNS} FROM samples WHERE (run_id = ? OR (variant = ? AND canonical))" + (" AND task = ?" if pack else "")
    rows = _rows(warehouse, sql, [key, key] + ([pack] if pack else []))
    return {(r["task"], r["sample_id"]): r for r in rows}


def _verdict(row: dict[str, Any] | None) -> bool | None:
    """None when the item is missing or the machine lost it; a model-caused failure is a wrong answer."""
    from ..scoring.outcomes import MACHINE, owner

    if row is None or owner(row.get("failure_mode")) == MACHINE:
        return None
    return bool(row["passed"]) and not row.get("failure_mode")


def diff_rows(a: dict, b: dict) -> list[dict[str, Any]]:
    """Pure: items whose verdict differs between two runs, plus items present on one side only. A failure the model
    caused (its code never ended, it timed out on an unloaded machine) is a regression like a wrong answer; one the
    machine caused (dead endpoint, sandbox error) is shown as lost, not as wrong."""
    from ..scoring.outcomes import MACHINE, owner

    out = []
    for key in sorted(set(a) | set(b)):
        ra, rb = a.get(key), b.get(key)
        fa, fb = (ra or {}).get("failure_mode"), (rb or {}).get("failure_mode")
        va, vb = _verdict(ra), _verdict(rb)
        if va != vb or fa != fb:
            change = ("only in B" if ra is None else "only in A" if rb is None
                      else "lost to the machine in B" if owner(fb) == MACHINE
                      else "lost to the machine in A" if owner(fa) == MACHINE
                      else "fixed" if vb and not va else "regressed" if va and not vb else "failed differently")
            out.append({"task": key[0], "sample_id": key[1], "change": change,
                        "a": (ra or {}).get("failure_mode") or (ra or {}).get("verdict_reason"),
                        "b": (rb or {}).get("failure_mode") or (rb or {}).get("verdict_reason")})
    return out


def paired(a: dict, b: dict) -> dict[str, Any]:
    """McNemar's exact test and the paired bootstrap by the report's one rule (report/comparisons.py): a model
    failure is a wrong answer, an item either side lost to the machine is dropped and counted."""
    from ..report.comparisons import paired_results

    items = [{**r, "variant": name} for name, rows in (("A", a), ("B", b)) for r in rows.values()]
    stats = paired_results([("A", "B", "diff")], items)[0]
    return {k: v for k, v in stats.items() if k not in ("a", "b", "why")}


def label(warehouse: WarehouseResource, key: str) -> str:
    """A variant key with the upward-derived mark the report uses ("(≤ Q4_1 source)"); run ids unchanged."""
    from partitions import parse_variant_key

    from ..catalog.quants import bounded_by

    try:
        parsed = parse_variant_key(key)
    except ValueError:
        return key
    rows = _rows(warehouse, "SELECT derived_from FROM weights WHERE model = ? AND quant = ?", [parsed.model, parsed.quant])
    source = next((bounded_by(parsed.quant, r["derived_from"]) for r in rows if r["derived_from"]), None)
    return f"{key} (≤ {source} source)" if source else key


def paired_line(stats: dict[str, Any]) -> str:
    return (f"paired over {stats['items']} items answered by both: B - A = {100 * stats['diff']:+.1f} points, "
            f"95% bootstrap CI [{100 * stats['diff_low']:+.1f}, {100 * stats['diff_high']:+.1f}] (seed 0); "
            f"McNemar exact p = {stats['p_mcnemar']:.3g} ({stats['a_only']} passed by A only, {stats['b_only']} by B only): "
            f"{stats['verdict']}; lost to the machine and dropped: A {stats['dropped_a']}, B {stats['dropped_b']}")


def show_episode_judgements(warehouse: WarehouseResource, episode: str, console, as_json: bool = False) -> int:
    """An episode's judge scores, one line per (rubric criterion, judge), with the rationale."""
    from resources.warehouse import read_sql

    rows = warehouse.query(read_sql("queries/judge_scores_of_episode.sql"), [episode])
    if as_json:
        print(json.dumps(rows, default=str, indent=1))
        return 0 if rows else 1
    if not rows:
        console.print(f"no judge scores for episode {episode!r} (run `beyond-vibes judges run`)")
        return 1
    console.print(escape(f"episode {rows[0]['episode_id']} ({rows[0]['variant']}, {rows[0]['sim']})"))
    for r in rows:
        score = r["score"] if r["score"] is not None else f"failed: {r['failure_mode']}"
        trust = "" if r["trusted"] else " [not trusted]"
        console.print(escape(f"  {r['rubric']}/{r['criterion']} by {r['judge']}{trust}: {score} — {r['rationale'] or ''}"))
    return 0


def main(args, console, warehouse: WarehouseResource) -> int:
    if getattr(args, "episode", None):
        return show_episode_judgements(warehouse, args.episode, console, args.json)
    if args.diff:
        a, b = (side(warehouse, k, args.pack) for k in args.diff)
        changes = diff_rows(a, b)
        stats = paired(a, b)
        if args.json:
            print(json.dumps({"changes": changes, "paired": stats}, indent=1, default=str))
            return 0
        pa, pb = sum(bool(r["passed"]) for r in a.values()), sum(bool(r["passed"]) for r in b.values())
        console.print(escape(f"A {label(warehouse, args.diff[0])}: {pa}/{len(a)} passed   "
                             f"B {label(warehouse, args.diff[1])}: {pb}/{len(b)} passed"))
        for c in changes:
            console.print(escape(f"{c['change']:<10} {c['task']}/{c['sample_id']}  A: {c['a'] or 'pass'}  B: {c['b'] or 'pass'}"))
        console.print(f"{sum(c['change'] == 'regressed' for c in changes)} regressed, {sum(c['change'] == 'fixed' for c in changes)} fixed")
        console.print(escape(paired_line(stats)))
        return 0
    where, params = _filters(args)
    if args.sample:
        rows = _rows(warehouse, f"SELECT * FROM samples WHERE {where} AND sample_id = ?", params + [args.sample])
        if not rows:
            console.print(f"no sample {args.sample!r} matches")
            return 1
        for r in rows:
            if args.json:
                print(json.dumps(r, indent=1, default=str))
                continue
            console.rule(escape(f"{r['variant']} / {r['task']} / {r['sample_id']}"))
            for m in json.loads(r["prompt_text"] or "[]"):
                console.print(f"[bold]{escape(m['role'])}[/bold]: {escape(str(m['content']))}")
            console.print(f"[bold]response[/bold]: {escape(str(r['response_text']))}")
            if r["tool_calls"]:
                console.print(f"[bold]tool calls[/bold]: {escape(r['tool_calls'])}")
            if r["reasoning_text"]:
                console.print(f"[bold]reasoning (not scored)[/bold]: {escape(r['reasoning_text'])}")
            console.print(f"[bold]verdict[/bold]: {'PASS' if r['passed'] else 'FAIL'} score={r['score']} "
                          f"{escape(r['failure_mode'] or '')} {escape(r['verdict_reason'] or '')}")
            console.print(escape(f"tokens {r['prompt_tokens']}+{r['completion_tokens']}, TTFT {r['ttft_s']}s, "
                                 f"decode {r['decode_tps']} tok/s (server {r['server_predicted_tps']}), run {r['run_id']}"))
        return 0
    rows = _rows(warehouse, f"SELECT {COLUMNS} FROM samples WHERE {where} AND NOT passed ORDER BY variant, task, sample_id", params)
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    for r in rows:
        console.print(escape(f"{r['variant']} {r['task']}/{r['sample_id']}: {r['failure_mode'] or 'wrong'} — {r['verdict_reason']}"))
    console.print(f"{len(rows)} failing samples")
    return 0
