"""Sandbox overhead: the wall time of a trivial sandboxed command and of scoring the `code` pack's references
(every item executed, nothing served from the execution cache), as medians over interleaved rounds.

Run it on two checkouts (before and after a sandbox change) on the same machine, one after the other, or pass
`--compare PATH` to run PATH's copy of this script in the same session, round by round, and print the ratios:

    python benchmarks/sandbox_overhead.py [--rounds 7] [--trivial 40] [--compare /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("BV_BENCH_CODE", ROOT))  # the checkout measured (another one with --compare)
sys.path.insert(0, str(CODE))


def _run_files():
    from beyond_vibes_assets.scoring import sandboxed

    return sandboxed.run_files, sandboxed.limits_for


def measure(trivial: int) -> dict[str, float]:
    """One round in this process: `trivial` sandboxed `true` commands, then the code pack's references."""
    from beyond_vibes_assets.catalog.packs import load_pack
    from beyond_vibes_assets.scoring import registry as V

    run_files, limits_for = _run_files()
    times = []
    for _ in range(trivial):
        started = time.perf_counter()
        done = run_files({"a.txt": "a\n"}, "true", limits_for({"timeout_s": 10}))
        times.append(time.perf_counter() - started)
        assert done.exit_code == 0, done
    pack = load_pack(CODE / "packs" / "code")
    refs = {r["id"]: r["reply"] for r in map(json.loads, (CODE / "packs" / "code" / "references.jsonl").read_text().splitlines())}
    with tempfile.TemporaryDirectory() as home:
        os.environ["BEYOND_VIBES_HOME"] = home  # a fresh execution cache: every item really runs
        started = time.perf_counter()
        for item in pack.items:
            verdict = V.verify(item.verifier, V.Response(refs[item.id]), item.check)
            assert verdict.passed, (item.id, verdict.reason)
        pack_s = time.perf_counter() - started
    return {"trivial_s": statistics.median(times), "code_pack_s": pack_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--trivial", type=int, default=40, help="trivial commands per round")
    parser.add_argument("--compare", type=Path, help="another checkout whose copy of this script runs interleaved")
    parser.add_argument("--one-round", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:
        print(json.dumps(measure(args.trivial)))
        return
    sides = {"this": ROOT}
    if args.compare:
        sides["other"] = args.compare.resolve()
    results: dict[str, list[dict[str, float]]] = {k: [] for k in sides}
    for _ in range(args.rounds):
        for name, root in sides.items():  # interleaved: drift on the machine hits both sides alike
            env = {**os.environ, "BV_BENCH_CODE": str(root)}
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one-round", "--trivial", str(args.trivial)],
                                 cwd=root, env=env, capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {name: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for name, rows in results.items()}
    for name, m in medians.items():
        print(f"{name:6} {sides[name]}: trivial command {m['trivial_s'] * 1000:.1f} ms (median), "
              f"code pack references {m['code_pack_s']:.2f} s (median of {args.rounds})")
    if "other" in medians:
        a, b = medians["this"], medians["other"]
        print(f"ratio this/other: trivial command {a['trivial_s'] / b['trivial_s']:.2f}x, "
              f"code pack {a['code_pack_s'] / b['code_pack_s']:.2f}x")


if __name__ == "__main__":
    main()
