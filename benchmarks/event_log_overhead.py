"""Event-log overhead: one all-answered `pack_results` run over N partitions on the default SQLite instance, with
Dagster's own `SqliteEventLogStorage` against the platform's (orchestration/sqlite_event_log.py, which keeps one
engine per database file), side by side in one session.

Two homes are seeded from deploy/dagster.yaml, one without its `event_log_storage` lines (Dagster's class); each
answers N one-item packs once from a scripted API endpoint (no model runs, so the run is all bookkeeping); then
rounds alternate between the homes, each round a fresh process timing one all-answered run (the work a backfill
does for partitions whose answers are stored). Prints the medians and the ratio.

    .venv/bin/python benchmarks/event_log_overhead.py [--partitions 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def seed(home: Path, ours: bool) -> None:
    from tests.conftest import with_dagster_event_log

    text = (REPO / "deploy" / "dagster.yaml").read_text()
    if not ours:
        text = with_dagster_event_log(text)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(text)


def worker(home: Path, partitions: int, answer: bool) -> None:
    """In a fresh process: answer the packs (answer=True) or time one all-answered run; prints JSON."""
    os.environ.update({"BEYOND_VIBES_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
                       "BEYOND_VIBES_CONFIG": str(home / "models.yaml"), "BEYOND_VIBES_PACKS": str(home / "packs"),
                       "BEYOND_VIBES_PACK_TRACES": "0"})
    import dagster as dg

    from beyond_vibes_assets.cli.main import main, materialize, materialize_many
    from beyond_vibes_assets.cli.staleness import partition_range
    from beyond_vibes_assets.definitions import default_resources
    from tests.scripted import ScriptedEndpoint

    endpoint = ScriptedEndpoint(lambda body: "4")
    (home / "models.yaml").write_text((home / "models.yaml").read_text().replace("URL", endpoint.url))
    names = [f"p{i:04d}" for i in range(partitions)]
    variant = "good~api~openai_compatible"
    keys = [dg.MultiPartitionKey({"variant": variant, "task": n}) for n in names]
    with endpoint.running(), dg.DagsterInstance.get() as instance:
        if answer:
            assert main(["sync"]) == 0
            assert materialize(["engine_build", "model_weights", "engine_probe"], variant, instance=instance)
            assert materialize_many("pack_definition", names, instance=instance, resources=default_resources(),
                                    force=True)
        tags, _ = partition_range(instance, "pack_results", keys)
        started = time.perf_counter()
        assert materialize(["pack_results"], None, instance=instance, tags=tags)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "storage": type(instance.event_log_storage).__name__,
                          "sent": endpoint.count()}))


def run_worker(home: Path, partitions: int, answer: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", str(home), "--partitions", str(partitions),
                          *(["--answer"] if answer else [])], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partitions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker")
    parser.add_argument("--answer", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker), args.partitions, args.answer)
        return 0
    from tests.conftest import make_pack
    from tests.scripted import api_models

    root = Path(tempfile.mkdtemp(prefix="bv-eventlog-"))
    homes = {}
    for label, ours in (("dagster", False), ("reusing", True)):
        home = homes[label] = root / label
        seed(home, ours)
        (home / "models.yaml").write_text(api_models("URL", ["good"]))
        for i in range(args.partitions):
            make_pack(home / "packs", f"p{i:04d}", [{"id": "q", "prompt": f"What is {i} + 0?", "check": {"answer": 4}}],
                      verifier="numeric")
        first = run_worker(home, args.partitions, answer=True)
        print(f"{label}: {first['storage']}, {args.partitions} partitions answered ({first['sent']} calls)", flush=True)
    times: dict[str, list[float]] = {label: [] for label in homes}
    for r in range(args.rounds):
        for label in (homes if r % 2 == 0 else reversed(list(homes))):  # alternate who goes first
            result = run_worker(homes[label], args.partitions, answer=False)
            assert result["sent"] == 0, result  # all answered: no model call
            times[label].append(result["seconds"])
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nall-answered run over {args.partitions} partitions, median of {args.rounds}: Dagster's event log "
          f"{med['dagster']:.2f}s ({med['dagster'] / args.partitions * 1000:.1f} ms/partition), the reusing one "
          f"{med['reusing']:.2f}s ({med['reusing'] / args.partitions * 1000:.1f} ms/partition): "
          f"{med['reusing'] / med['dagster']:.2f}x the time")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
