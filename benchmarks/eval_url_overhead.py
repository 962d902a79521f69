"""`beyond-vibes eval --url` against a llama-server started outside the platform, vs the same pack run through
models.yaml (`packs run --variant`), side by side, each round on a fresh home with the engine build cached.

The outside server is this script's: the variant's own llama-server (same file, build and engine arguments),
started once before the rounds. `packs run` pays what a catalog run pays on a fresh home (weights prepared and
hashed, its own server started); `eval --url` sends to the running server. Prints both wall times per round, their
medians and eval / packs-run (target ≤ 1.10: an endpoint outside the catalog costs no more than one inside it).

    python benchmarks/eval_url_overhead.py [--pack reasonmath] [--rounds 3] [--variant smollm2-135m~Q4_1~cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from beyond_vibes_assets.catalog.resource import CatalogResource  # noqa: E402
from beyond_vibes_assets.resolve import local_copy, resolve_variant, template_args  # noqa: E402
from resources.llama_server import LlamaServerResource  # noqa: E402
from resources.object_store import ObjectStoreResource  # noqa: E402


def timed_cli(home: Path, *args: str) -> float:
    env = {**os.environ, "BEYOND_VIBES_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "beyond_vibes_assets.cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"beyond-vibes {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", default="reasonmath")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", default="smollm2-135m~Q4_1~cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bv-evalurl-") as tmp:
        root = Path(tmp)
        os.environ["BEYOND_VIBES_HOME"] = str(root / "outside")
        timed_cli(root / "outside", "packs", "run", "--variant", args.variant, "--pack", args.pack)  # its weights
        catalog = CatalogResource()
        store = ObjectStoreResource()
        resolved = resolve_variant(catalog, args.variant, log=lambda _m: None, store=store)
        # started as anyone would start a server of their own: not through the catalog, so not under its engine lock
        args_ = resolved.variant.engine.server_args() + template_args(resolved.variant, resolved.config_file.parent)
        with LlamaServerResource().serve(resolved.build.tools["llama-server"], str(local_copy(store, resolved.weights)), args_,
                                          root / "outside.log", alias=args.variant) as running:
            url = f"{running.base_url}/v1"
            print(f"outside server: {url} ({args.variant}, {running.props.get('build_info')})")
            catalog_s, eval_s = [], []
            for i in range(args.rounds):
                catalog_s.append(timed_cli(root / f"catalog{i}", "packs", "run", "--variant", args.variant,
                                           "--pack", args.pack))
                eval_s.append(timed_cli(root / f"eval{i}", "eval", "--url", url, "--model", args.variant,
                                        "--pack", args.pack))
                print(f"round {i + 1}: packs run {catalog_s[-1]:.1f} s   eval --url {eval_s[-1]:.1f} s")
    a, b = statistics.median(catalog_s), statistics.median(eval_s)
    print(f"median: packs run {a:.1f} s, eval --url {b:.1f} s; eval / packs run = {b / a:.2f} (target <= 1.10)")


if __name__ == "__main__":
    main()
