"""Harness overhead: the platform's pack runner vs the same requests sent directly, side by side.

One llama-server, one pack, three ways, interleaved over several rounds so drift hits all equally:
  platform  run_pack() (what pack_results runs): cache lookups, timing, retries, JSONL records, fsync
  direct    the identical request bodies with httpx at the same concurrency, stream read and discarded
  naive     the identical bodies, one at a time, with a blocking client (what a quick script does)
Temperature 0 with a fixed seed makes every round the same workload. Prints samples/min and ratios.

    python benchmarks/harness_overhead.py [--pack reasonmath] [--rounds 6] [--variant smollm2-135m~Q4_1~cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beyond_vibes_assets.catalog.resource import CatalogResource  # noqa: E402
from beyond_vibes_assets.resolve import Endpoint, resolve_variant  # noqa: E402
from beyond_vibes_assets.runner.pack_runner import build_request, run_pack  # noqa: E402
from beyond_vibes_assets.runner.response_store import ResponseStore  # noqa: E402
from beyond_vibes_assets.runner.target import CANONICAL_SAMPLING, http_limits  # noqa: E402
from resources.llama_server import LlamaServerResource  # noqa: E402
from resources.llm_client import LLMClientResource  # noqa: E402
from resources.object_store import ObjectStoreResource  # noqa: E402
from resources.warehouse import WarehouseResource  # noqa: E402


def bodies(pack, target):
    client = target.client
    return [client.build_body(build_request(pack, item, target, CANONICAL_SAMPLING, 600)) for item in pack.items]


async def direct(url: str, payloads: list[dict], concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)
    limits = http_limits(concurrency)  # the same connection policy as the platform
    async with httpx.AsyncClient(timeout=None, limits=limits) as http:
        async def one(body):
            async with sem, http.stream("POST", f"{url}/chat/completions", json=body) as response:
                async for _ in response.aiter_bytes():
                    pass

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in payloads))
        return time.perf_counter() - started


def naive(url: str, payloads: list[dict]) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=None) as http:
        for body in payloads:
            http.post(f"{url}/chat/completions", json={**body, "stream": False}).json()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="smollm2-135m~Q4_1~cpu")
    parser.add_argument("--pack", default="reasonmath")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    catalog = CatalogResource()
    pack = catalog.pack(args.pack)
    times: dict[str, list[float]] = {"platform": [], "direct": [], "naive": []}
    # the same resolution and launch as the assets (weights must exist: run `beyond-vibes download` first)
    store = ObjectStoreResource()
    resolved = resolve_variant(catalog, args.variant, log=print, store=store, warehouse=WarehouseResource())
    with tempfile.TemporaryDirectory() as tmp, resolved.serve(LlamaServerResource(), store, "benchmark", print) as srv:
        target = resolved.target(LLMClientResource(), Endpoint(srv.base_url, srv.slots, srv.props, srv))
        payloads = bodies(pack, target)
        asyncio.run(direct(srv.openai_base, payloads[:2], srv.slots))  # warm-up
        def platform_round(r: int) -> float:
            fresh = ResponseStore(Path(tmp) / f"round{r}.jsonl")  # empty: every item is really sent
            t0 = time.perf_counter()
            stats = asyncio.run(run_pack(pack, target, fresh))
            elapsed = time.perf_counter() - t0
            assert stats.sent == len(pack.items) and stats.failed == 0, stats
            return elapsed

        runners = {"platform": platform_round, "direct": lambda r: asyncio.run(direct(srv.openai_base, payloads, srv.slots)),
                   "naive": lambda r: naive(srv.openai_base, payloads)}
        for r in range(args.rounds):
            order = list(runners) if r % 2 == 0 else list(reversed(runners))  # no method always runs first
            for name in order:
                times[name].append(runners[name](r))
            print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    n = len(pack.items)
    rate = {k: 60 * n / statistics.median(v) for k, v in times.items()}
    print(f"\n{args.pack} ({n} items) on {args.variant}, {srv.slots} slots, median of {args.rounds} rounds")
    for k in ("platform", "direct", "naive"):
        print(f"  {k:<9} {rate[k]:8.1f} samples/min")
    print(f"  platform / direct = {rate['platform'] / rate['direct']:.3f}")
    print(f"  naive    / direct = {rate['naive'] / rate['direct']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
