"""Backfill overhead: pack_results backfills launched through the webserver's GraphQL, the way the UI does.

In one run of this script, on a fresh home with the default catalog (five SmolLM2 variants):
  1. probes every variant (light probe) and answers N small packs in-process (5 x N partitions; --answered-packs);
  2. starts the real `dagster-daemon` and `dagster-webserver` on 127.0.0.1 (SQLite instance, default run
     launcher: every run is its own process), stops the two sensors as a user would in the UI;
  3. backfill B: every partition of pack_results (the answered ones + 5 of a new pack, one per variant);
  4. backfill A: the answered partitions alone;
  5. backfill A again with Dagster's default run launcher (a new interpreter per run), for comparison.
It prints how many runs each backfill launched, seconds per already-answered partition (target <= 0.2 s)
and the wall time of the backfill with new work against the sum of its model-call time (target <= 1.2x).
Run time is measured from the run records (run start to run end). Dagster's backfill daemon polls every
30 s, so launch-to-done also includes up to two polls; that figure is printed beside it.

    .venv/bin/python benchmarks/backfill_overhead.py [--new-items 16] [--new-tokens 128] [--home DIR]
        [--answered-packs 200 --items-per-pack 1]   # 1,000 answered partitions
        [--timeline]   # each variant's server up and last answer in the backfill with new work
        [--default-launcher]   # Dagster's own run launcher (the shipped default) for every backfill
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.servers import DagsterServices  # noqa: E402 - after the path insert

NEW = "bench_new"
LIGHT_PROBE = {"ops": {"engine_probe": {"config": {"speed_repeats": 1, "gen_tokens": 16, "prompt_tokens": 64,
                                                  "llama_bench": False, "perplexity_chunks": 0}}}}


def answered_packs(n: int) -> list[str]:
    return [f"bench_{i:03d}" for i in range(n)]


def write_packs(root: Path, new_items: int, new_tokens: int, answered: list[str], items_per_pack: int) -> None:
    def pack(name: str, items: list[dict], max_tokens: int) -> None:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pack.yaml").write_text(f"version: '1'\nverifier: numeric\nmax_tokens: {max_tokens}\n")
        (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))

    for n, name in enumerate(answered):
        pack(name, [{"id": f"q{i}", "prompt": f"What is {n + 2} + {i}? Reply with the number only.",
                     "check": {"answer": n + 2 + i}} for i in range(items_per_pack)], 16)
    pack(NEW, [{"id": f"s{i}", "prompt": f"Explain step by step how to compute {i + 11} * {i + 7}, then give the result.",
                "check": {"answer": (i + 11) * (i + 7)}} for i in range(new_items)], new_tokens)


def model_call_seconds(instance, keys: list[str]) -> tuple[float, int]:
    """Sum of run_pack's send time over the given partitions' latest materializations, and items sent."""
    import dagster as dg

    total, sent = 0.0, 0
    for key in keys:
        record = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("pack_results"), asset_partitions=[key]), limit=1).records[0]
        meta = record.asset_materialization.metadata
        if meta["sent"].value:
            total += meta["seconds"].value
            sent += meta["sent"].value
    return total, sent


def engine_timeline(instance, runs: list[dict]) -> list[tuple[float, str]]:
    """(seconds since the backfill's first run started, what): each variant's server up and its last answer (the
    run log's [N/N] line), and the last run's end, read from the runs' own event logs: where the run wall time that
    is not model calls went."""
    import re

    t0 = min(r["startTime"] for r in runs)
    marks = [(max(r["endTime"] for r in runs) - t0, "the last run ended")]
    for run in runs:
        for entry in instance.all_logs(run["id"]):
            message = entry.user_message or ""
            done = re.match(r"\[(\d+)/(\d+)\] ", message)
            if message.startswith("llama-server for ") or (done and done.group(1) == done.group(2)):
                marks.append((entry.timestamp - t0, message[:100]))
    return sorted(marks)


def backfill_with_default_launcher(env: dict[str, str], home: Path, answered: list[str]) -> dict:
    """Backfill A once more, the instance's run_launcher block removed (Dagster's DefaultRunLauncher)."""
    config = Path(env["DAGSTER_HOME"]) / "dagster.yaml"
    original = config.read_text()
    config.write_text(original.split("run_launcher:")[0])
    dagster = DagsterServices(env, home)
    try:
        dagster.wait_ready()
        dagster.stop_sensors()
        return dagster.backfill(answered)
    finally:
        dagster.close()
        config.write_text(original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-items", type=int, default=16, help="items of the new pack (per variant)")
    parser.add_argument("--new-tokens", type=int, default=128, help="max_tokens of the new pack")
    parser.add_argument("--skip-default", action="store_true",
                        help="skip the comparison backfill with Dagster's default run launcher")
    parser.add_argument("--home", help="keep state here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--answered-packs", type=int, default=5,
                        help="answered packs per variant (5 variants: 5 -> 25 partitions, 200 -> 1,000)")
    parser.add_argument("--items-per-pack", type=int, default=4, help="items of each answered pack")
    parser.add_argument("--default-launcher", action="store_true",
                        help="every backfill with Dagster's default run launcher (the shipped default), not the warm pool")
    parser.add_argument("--timeline", action="store_true",
                        help="also print when each variant's server came up and answered last in the backfill with new work")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="bv-backfill-")).resolve()
    packs = home / "packs"
    answered_names = answered_packs(args.answered_packs)
    write_packs(packs, args.new_items, args.new_tokens, answered_names, args.items_per_pack)
    env = {**os.environ, "BEYOND_VIBES_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "BEYOND_VIBES_CONFIG": str(REPO / "models.yaml"), "BEYOND_VIBES_PACKS": str(packs),
           # backfill A with the warm pool, then again with Dagster's own; --default-launcher: Dagster's throughout
           "BEYOND_VIBES_WARM_LAUNCHER": "0" if args.default_launcher else "1"}
    os.environ.update(env)

    import dagster as dg

    from beyond_vibes_assets.cli.main import main as cli
    from beyond_vibes_assets.cli.main import materialize
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    assert cli(["sync"]) == 0
    variants = instance.get_dynamic_partitions("variant")
    print(f"home {home}: {len(variants)} variants; probing and answering {len(answered_names)} packs in-process", flush=True)
    for v in variants:
        assert materialize(["engine_build", "model_weights", "engine_probe"], v, run_config=LIGHT_PROBE, instance=instance)
    pre = ["packs", "run", *[a for v in variants for a in ("--variant", v)], *[a for p in answered_names for a in ("--pack", p)]]
    assert cli(pre) == 0
    answered = [str(dg.MultiPartitionKey({"variant": v, "task": t})) for v in variants for t in answered_names]
    new = [str(dg.MultiPartitionKey({"variant": v, "task": NEW})) for v in variants]

    dagster = DagsterServices(env, home)
    try:
        dagster.wait_ready()
        dagster.stop_sensors()
        print(f"webserver and daemon up; sensors stopped; backfill B ({len(answered) + len(new)} partitions, "
              f"{len(new)} with new work)...", flush=True)
        b = dagster.backfill(answered + new)
        calls, sent = model_call_seconds(instance, new)
        print(f"backfill A ({len(answered)} answered partitions)...", flush=True)
        a = dagster.backfill(answered)
    finally:
        dagster.close()
    default = None
    if not args.skip_default and not args.default_launcher:
        print("backfill A again with Dagster's default run launcher (a new interpreter per run)...", flush=True)
        default = backfill_with_default_launcher(env, home, answered)
    per_partition = a["run_span_s"] / len(answered)
    ratio = b["run_span_s"] / calls
    print(f"\nbackfill B: {len(answered) + len(new)} partitions, {len(b['runs'])} run(s), status {b['status']}; "
          f"{sent} items sent")
    print(f"  run wall {b['run_span_s']:.1f}s vs model-call time {calls:.1f}s: ratio {ratio:.2f} (target <= 1.2); "
          f"launch to done {b['launch_to_done_s']:.1f}s (includes the daemon's 30 s polling)")
    if args.timeline:  # backfill B's engine, from its runs' event logs
        for at, what in engine_timeline(instance, b["runs"]):
            print(f"  {at:7.2f}s  {what}")
    print(f"backfill A: {len(answered)} answered partitions, {len(a['runs'])} run(s), status {a['status']}")
    print(f"  run wall {a['run_span_s']:.1f}s = {per_partition:.3f} s per answered partition (target <= 0.2); "
          f"launch to done {a['launch_to_done_s']:.1f}s = {a['launch_to_done_s'] / len(answered):.2f} s per partition")
    if default:
        slow = default["run_span_s"] / len(answered)
        print(f"  same backfill, default launcher: run wall {default['run_span_s']:.1f}s = {slow:.3f} s per answered "
              f"partition ({len(default['runs'])} run(s), {default['status']}): warm pool {slow / per_partition:.2f}x faster, "
              f"saving {100 * (1 - a['run_span_s'] / default['run_span_s']):.1f}% of the backfill's run wall time")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if b["status"].startswith("COMPLETED") and a["status"].startswith("COMPLETED") else 1


if __name__ == "__main__":
    sys.exit(main())
