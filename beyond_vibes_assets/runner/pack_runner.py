"""Run a behaviour pack against one endpoint: cached, concurrent, resumable, then scored.

Sending and scoring are separate: `run_pack` only sends what the response store lacks and appends
raw records; `score_records` turns stored records into sample rows with pure verifiers. Re-scoring
after a verifier change is therefore `score_records` over the same file, with zero model calls.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from resources.llm_client import ChatRequest

from ..catalog.packs import Item, Pack
from ..scoring import registry as V
from ..scoring.extract import split_reasoning
from .concurrent import gather_or_cancel
from .response_store import ResponseStore, cache_key, keep, stable_hash
from .target import CANONICAL_SAMPLING, Target, http_limits

THINKING_BUDGET_TOKENS = 512


@dataclass
class RunStats:
    total: int = 0
    cached: int = 0
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    executions: int = 0  # sandbox runs while scoring (execution-backed verifiers); stored results are reused
    judge_sent: int = 0  # judge calls made while scoring (llm_judge items); cached verdicts are reused
    judge_cached: int = 0
    traces: str = ""  # what the pack-sample traces did ("12 written", or why they were not)
    failures: dict[str, int] = field(default_factory=dict)


def build_messages(pack: Pack, item: Item) -> list[dict[str, Any]]:
    system = "\n\n".join(s for s in (pack.meta.system_prompt, item.system) if s)
    if pack.meta.tools and pack.meta.tool_mode == "prompted":
        tools = json.dumps([t["function"] for t in pack.meta.tools], indent=1)
        system += ("\n\nYou can call these tools:\n" + tools + "\nTo call one, reply with only JSON "
                   '{"tool": NAME, "arguments": {...}}. If no tool is needed, answer normally.')
    messages = [{"role": "system", "content": system}] if system else []
    for shot in pack.meta.few_shot:
        messages += [{"role": "user", "content": shot.user}, {"role": "assistant", "content": shot.assistant}]
    messages.append({"role": "user", "content": item.prompt})
    return messages


def build_request(pack: Pack, item: Item, target: Target, sampling: dict[str, Any], timeout_s: float) -> ChatRequest:
    extra: dict[str, Any] = {}
    max_tokens = item.max_tokens
    if target.is_llama_server:
        extra["cache_prompt"] = False  # honest TTFT and prefill figures
    if target.thinking != "none":
        extra["chat_template_kwargs"] = {"enable_thinking": target.thinking == "on"}
        if target.thinking == "on":
            max_tokens += THINKING_BUDGET_TOKENS
    if item.stop:
        extra["stop"] = list(item.stop)  # part of the prompt hash: changing it re-sends
    tools = pack.meta.tools if pack.meta.tools and pack.meta.tool_mode == "native" else None
    response_format = {"type": "json_object"} if item.json_mode else None
    return ChatRequest(messages=build_messages(pack, item), max_tokens=max_tokens, sampling=dict(sampling),
                       tools=tools, response_format=response_format, extra_body=extra, timeout_s=timeout_s)


def prompt_hash(request: ChatRequest) -> str:
    return stable_hash({"messages": request.messages, "tools": request.tools, "max_tokens": request.max_tokens,
                        "response_format": request.response_format, "extra": request.extra_body})


def timeout_for(pack: Pack, item: Item, target: Target, override_s: float | None = None, safety: float = 6.0) -> float:
    """Scale the timeout with measured speed: a slow variant gets more time, a hung one still stops.

    Budget = safety x slots sharing the engine x (prefill of the whole request + a full max_tokens decode).
    """
    if override_s:
        return override_s
    if not target.decode_tps:
        return max(pack.meta.timeout_floor_s, 120.0)
    request_chars = len(json.dumps(build_messages(pack, item))) + len(json.dumps(pack.meta.tools or []))
    prefill = (request_chars / 3) / (target.prompt_tps or target.decode_tps * 4)
    decode = item.max_tokens / target.decode_tps
    return round(max(pack.meta.timeout_floor_s, safety * max(1, target.concurrency) * (decode + prefill) + 5.0), 1)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def plan(pack: Pack, target: Target, store: ResponseStore, sampling: dict[str, Any], retry_errors: bool = False,
         timeout_override_s: float | None = None) -> tuple[list[tuple[Item, ChatRequest, str, str]], int]:
    """(items still to send with their request, prompt hash and cache key; number already answered)."""
    kept = {k for k, r in store.latest_by_key().items() if keep(r, retry_errors)}
    todo, cached = [], 0
    for item in pack.items:
        request = build_request(pack, item, target, sampling, timeout_for(pack, item, target, timeout_override_s))
        phash = prompt_hash(request)
        key = cache_key(target.variant, pack.version, item.id, phash, sampling, target.model_sha256,
                        target.engine_build, pack.name)
        if key in kept:
            cached += 1
        else:
            todo.append((item, request, phash, key))
    return todo, cached


async def run_pack(pack: Pack, target: Target, store: ResponseStore, *, sampling: dict[str, Any] | None = None,
                   retry_errors: bool = False, timeout_override_s: float | None = None, run_id: str = "",
                   progress: Callable[[int, int, str], None] | None = None) -> RunStats:
    """Send every item that has no kept record; append each result as it completes."""
    sampling = dict(sampling if sampling is not None else CANONICAL_SAMPLING)
    attempts = store.attempts_by_key()
    todo, cached = plan(pack, target, store, sampling, retry_errors, timeout_override_s)
    stats = RunStats(total=len(pack.items), cached=cached)
    done = stats.cached
    if progress:
        progress(done, stats.total, f"{stats.cached} cached")
    if not todo:
        return stats  # every answer is stored: no client, no connection
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(max(1, target.concurrency))
    async with httpx.AsyncClient(limits=http_limits(target.concurrency), timeout=None) as http:

        async def one(item: Item, request: ChatRequest, phash: str, key: str) -> None:
            nonlocal done
            async with semaphore:
                result = await target.client.chat(http, request)
            answer, think = split_reasoning(result.text)
            record = {
                "cache_key": key, "variant": target.variant, "task": pack.name, "task_version": pack.version,
                "sample_id": item.id, "attempt": attempts.get(key, 0) + 1, "prompt_hash": phash,
                "sampling": sampling, "request": {"messages": request.messages, "max_tokens": request.max_tokens,
                                                  "tools": bool(request.tools), "response_format": request.response_format},
                "answer": answer, "reasoning": (result.reasoning + "\n" + think).strip(),
                "model_sha256": target.model_sha256, "engine_build": target.engine_build,
                "timeout_s": request.timeout_s, "run_id": run_id, "created_at": _now(),
                **{k: v for k, v in result.to_dict().items() if k not in ("reasoning",)},
            }
            store.append(record)
            stats.sent += 1
            if result.failure_mode:
                stats.failed += 1
                stats.failures[result.failure_mode] = stats.failures.get(result.failure_mode, 0) + 1
            done += 1
            if progress:
                progress(done, stats.total, f"{item.id}: {result.failure_mode or 'ok'}")

        await gather_or_cancel([one(*job) for job in todo])
    stats.seconds = time.perf_counter() - started
    return stats


def _tps(timings: dict[str, Any] | None, key: str) -> float | None:
    return float(timings[key]) if timings and timings.get(key) is not None else None


def score_records(pack: Pack, target: Target, store: ResponseStore, sampling: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Sample rows for the warehouse: the latest record per item of this pack run, scored now."""
    sampling = dict(sampling if sampling is not None else CANONICAL_SAMPLING)
    canonical = sampling == CANONICAL_SAMPLING
    latest = store.latest_by_key()
    by_item: dict[str, dict[str, Any]] = {}
    for record in latest.values():
        same_run = (record.get("model_sha256") == target.model_sha256 and record.get("engine_build") == target.engine_build
                    and record.get("task_version") == pack.version and record.get("sampling") == sampling)
        if same_run:
            current = by_item.get(record["sample_id"])
            if current is None or record["created_at"] >= current["created_at"]:
                by_item[record["sample_id"]] = record
    rows, scored_at = [], _now()
    answered = [(item, by_item[item.id]) for item in pack.items if item.id in by_item]
    verdicts = iter(V.verify_all([  # sandboxed verifiers side by side: scoring a code pack keeps every core busy
        (item.verifier, V.Response(rec.get("answer") or "", rec.get("tool_calls") or [], item.prompt), item.check)
        for item, rec in answered if not rec.get("failure_mode")]))
    for item, rec in answered:
        if rec.get("failure_mode"):
            verdict = V.Verdict(False, 0.0, f"not scored: {rec['failure_mode']}", {})
        else:
            verdict = next(verdicts)
        # an execution that timed out, a sandbox that could not start, a verifier bug: failure modes with an owner
        # (scoring/outcomes.py), never a silent wrong answer
        failure = (rec.get("failure_mode") or verdict.detail.get("execution_failure")
                   or ("verifier_error" if verdict.detail.get("verifier_error") else None))
        rows.append({
            "variant": target.variant, "model": target.model, "quant": target.quant, "engine": target.engine,
            "task": pack.name, "task_version": pack.version, "task_fingerprint": pack.fingerprint,
            "sample_id": item.id, "difficulty": item.difficulty, "attempt": rec.get("attempt"),
            "cache_key": rec["cache_key"], "prompt_hash": rec.get("prompt_hash"),
            "sampling_params": json.dumps(rec.get("sampling"), sort_keys=True), "canonical": canonical,
            "prompt_text": json.dumps(rec.get("request", {}).get("messages")), "response_text": rec.get("answer"),
            "reasoning_text": rec.get("reasoning") or None,
            "tool_calls": json.dumps(rec.get("tool_calls")) if rec.get("tool_calls") else None,
            "finish_reason": rec.get("finish_reason"), "prompt_tokens": rec.get("prompt_tokens"),
            "completion_tokens": rec.get("completion_tokens"), "ttft_s": rec.get("ttft_s"),
            "latency_s": rec.get("latency_s"), "client_tps": rec.get("client_tps"), "decode_tps": rec.get("decode_tps"),
            "server_prompt_tps": _tps(rec.get("server_timings"), "prompt_per_second"),
            "server_predicted_tps": _tps(rec.get("server_timings"), "predicted_per_second"),
            "timeout_s": rec.get("timeout_s"), "failure_mode": failure,
            "error": rec.get("error") or (verdict.reason if failure and not rec.get("failure_mode") else None),
            "verifier": item.verifier, "verifier_version": V.code_version(item.verifier),
            "score": None if failure else verdict.score,
            "passed": verdict.passed, "verdict_reason": verdict.reason,
            "verdict_detail": json.dumps(verdict.detail, default=str), "model_sha256": rec.get("model_sha256"),
            "engine_build": rec.get("engine_build"), "run_id": rec.get("run_id"), "created_at": rec.get("created_at"),
            "scored_at": scored_at,
        })
    return rows
