"""Harness overhead of agent episodes: the share of an episode's wall time spent in the harness itself.

Runs real episodes (built-in harness, SmolLM2 on the default CPU engine, the real sandbox) for a few shipped
sims and splits each episode's whole envelope (workspace set-up, the loop, the diff and the record) into
model time (waiting for the engine), tool time (the sandboxed commands and file tools) and the rest: the
harness (messages, parsing, stuck detection, diff, record). Target: harness <= 5% of wall time. The MLflow trace
is written after the episode frees its slot, overlapping the next one; its time is printed beside.

    .venv/bin/python benchmarks/sim_overhead.py [--sim NAME ...] [--repeats 2] [--home DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_SIMS = ["maintenance-false-premise-leap-year", "research-queue-compare", "planning-sqlite-migration"]
LIGHT_PROBE = {"ops": {"engine_probe": {"config": {"speed_repeats": 1, "gen_tokens": 16, "prompt_tokens": 64,
                                                  "llama_bench": False, "perplexity_chunks": 0}}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="smollm2-135m~Q4_1~cpu")
    parser.add_argument("--sim", action="append")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--home", help="keep state here (default: a temporary folder)")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="bv-simbench-")).resolve()
    os.environ.update({"BEYOND_VIBES_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
                       "BEYOND_VIBES_LOG_LEVEL": "WARNING"})

    import dagster as dg

    from beyond_vibes_assets.agent.episodes import episode_store
    from beyond_vibes_assets.cli.main import main as cli
    from beyond_vibes_assets.cli.main import materialize
    from beyond_vibes_assets.settings import ensure_dagster_home

    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    assert cli(["sync"]) == 0
    assert materialize(["engine_build", "model_weights", "engine_probe"], args.variant, run_config=LIGHT_PROBE,
                       instance=instance)
    sims = args.sim or DEFAULT_SIMS
    run = ["sims", "run", "--variant", args.variant, "--repeats", str(args.repeats), *[a for s in sims for a in ("--sim", s)]]
    cli(run)  # a failed criterion is not a failed run; every episode is recorded either way
    totals = {"envelope": 0.0, "model": 0.0, "tools": 0.0}
    print(f"\n{'sim':<40} {'episodes':>8} {'steps':>6} {'wall s':>8} {'model':>7} {'tools':>7} {'harness':>8}")
    for sim in sims:
        records = list(episode_store(args.variant, sim).latest_by_key().values())
        totals["trace"] = totals.get("trace", 0.0) + sum(r["timing"].get("trace_s", 0.0) for r in records)
        env = sum(r["timing"]["envelope_s"] for r in records)
        model = sum(r["episode"]["model_s"] for r in records)
        tools = sum(r["episode"]["tools_s"] for r in records)
        steps = sum(len(r["episode"]["steps"]) for r in records)
        totals["envelope"] += env
        totals["model"] += model
        totals["tools"] += tools
        print(f"{sim:<40} {len(records):>8} {steps:>6} {env:>8.1f} {100 * model / env:>6.1f}% {100 * tools / env:>6.1f}% "
              f"{100 * (env - model - tools) / env:>7.2f}%")
    harness = totals["envelope"] - totals["model"] - totals["tools"]
    share = harness / totals["envelope"]
    print(f"\nall episodes: wall {totals['envelope']:.1f}s = model {totals['model']:.1f}s + tools {totals['tools']:.1f}s "
          f"+ harness {harness:.2f}s; harness share {100 * share:.2f}% (target <= 5%)")
    print(f"MLflow trace writing, off the episodes' critical path (overlapping the next episode): "
          f"{totals.get('trace', 0.0):.2f}s in all")
    if not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if share <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
