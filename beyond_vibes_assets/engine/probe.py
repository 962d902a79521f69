"""Engine probe measurements: speed at fixed lengths, engine ceiling, perplexity, determinism.

Lore from llama.cpp users applied here: prompts are salted and `cache_prompt` is off, or the prompt
cache flatters prefill; determinism is checked with one request in flight at temperature 0; the
server's `timings` are reported beside the client's figures, never instead of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import statistics
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from resources.llm_client import ChatRequest, OpenAICompatibleClient

PERPLEXITY_TEXT = Path(__file__).parent / "data" / "perplexity.txt"
CANONICAL_PROMPTS = (
    "List the first five prime numbers.",
    "Write one sentence about the moon.",
    "Translate 'good morning' into French.",
)
_FILLER = ("The committee reviewed the quarterly figures and agreed to revisit the shipping schedule, "
           "the staffing plan and the budget for the coming season. ")


def salted_prompt(approx_tokens: int) -> str:
    """A prompt of about `approx_tokens` tokens that no cache has seen (a random salt leads it)."""
    salt = uuid.uuid4().hex
    body = _FILLER * max(1, approx_tokens // 24)
    return f"[{salt}] {body}\nSummarize the text above."


async def speed_run(base_url: str, prompt_tokens: int = 256, gen_tokens: int = 64, repeats: int = 3) -> dict[str, Any]:
    """Median TTFT, client decode tok/s and server prompt/predicted tok/s at fixed lengths."""
    client = OpenAICompatibleClient(base_url, "model", max_retries=0)
    runs = []
    async with httpx.AsyncClient(timeout=None) as http:
        for _ in range(repeats):
            request = ChatRequest(
                messages=[{"role": "user", "content": salted_prompt(prompt_tokens)}], max_tokens=gen_tokens,
                sampling={"temperature": 0.0, "seed": 1}, extra_body={"cache_prompt": False, "ignore_eos": True},
                timeout_s=300,
            )
            result = await client.chat(http, request)
            if not result.ok:
                raise RuntimeError(f"speed probe request failed: {result.failure_mode}: {result.error}")
            runs.append(result)
    timings = [r.server_timings or {} for r in runs]

    def med(values: list[Any]) -> float | None:
        values = [float(v) for v in values if v is not None]
        return round(statistics.median(values), 3) if values else None

    return {
        "prompt_tokens": med([r.prompt_tokens for r in runs]),
        "completion_tokens": med([r.completion_tokens for r in runs]),
        "ttft_s": med([r.ttft_s for r in runs]),
        "client_decode_tps": med([r.decode_tps for r in runs]),
        "client_tps": med([r.client_tps for r in runs]),
        "server_prompt_tps": med([t.get("prompt_per_second") for t in timings]),
        "server_predicted_tps": med([t.get("predicted_per_second") for t in timings]),
        "repeats": repeats,
    }


async def determinism_run(base_url: str, max_tokens: int = 32) -> dict[str, Any]:
    """Canonical prompts at temperature 0, one in flight, prompt cache off: hash of every output."""
    client = OpenAICompatibleClient(base_url, "model", max_retries=0)
    outputs = []
    async with httpx.AsyncClient(timeout=None) as http:
        for prompt in CANONICAL_PROMPTS:
            result = await client.chat(http, ChatRequest(
                messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                sampling={"temperature": 0.0, "top_k": 1, "seed": 7}, extra_body={"cache_prompt": False}, timeout_s=120))
            outputs.append(result.text if result.ok else f"<{result.failure_mode}>")
    digest = hashlib.sha256(json.dumps(outputs).encode()).hexdigest()[:16]
    return {"hash": digest, "outputs": outputs}


def run_llama_bench(bench_bin: str, model_path: str, threads: int | None, timeout_s: float = 300) -> dict[str, Any]:
    """Engine ceiling from llama-bench for the same file and threads (pp128 / tg32)."""
    cmd = [bench_bin, "-m", model_path, "-p", "128", "-n", "32", "-r", "2", "-o", "json"]
    if threads:
        cmd += ["-t", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout)[-500:]}
    rows = json.loads(out.stdout)
    pp = next((r["avg_ts"] for r in rows if r.get("n_prompt") and not r.get("n_gen")), None)
    tg = next((r["avg_ts"] for r in rows if r.get("n_gen") and not r.get("n_prompt")), None)
    return {"pp128_tps": round(pp, 2) if pp else None, "tg32_tps": round(tg, 2) if tg else None}


_PPL_RE = re.compile(r"Final estimate:\s*PPL\s*=\s*([\d.]+)\s*\+/-\s*([\d.]+)")


def run_perplexity(ppl_bin: str, model_path: str, threads: int | None, ctx: int = 128, chunks: int = 8,
                   timeout_s: float = 300) -> dict[str, Any]:
    """Perplexity on the shipped text: quant drift shows here before it shows in pass rates."""
    cmd = [ppl_bin, "-m", model_path, "-f", str(PERPLEXITY_TEXT), "-c", str(ctx), "--chunks", str(chunks)]
    if threads:
        cmd += ["-t", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    match = _PPL_RE.search(out.stdout + out.stderr)
    if out.returncode != 0 or not match:
        return {"error": (out.stderr or out.stdout)[-500:]}
    return {"perplexity": float(match.group(1)), "stderr": float(match.group(2)), "ctx": ctx, "chunks": chunks,
            "text": PERPLEXITY_TEXT.name}


def run(coro):
    return asyncio.run(coro)
