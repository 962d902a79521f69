"""The lm-eval model object: lm-eval builds the prompts and scores; requests go through the platform's client,
concurrently (one per server slot), and every answer is kept in the response store under our own key.

Key: variant, model sha256, engine build, task name and version, doc id, the prompt and the generation
kwargs. An interrupted run resumes from the store; a second materialization sends nothing.
With `apply_chat_template` the few-shot history goes to /v1/chat/completions as messages (llama-server applies
the model's own template); without it the flat prompt goes to /v1/completions (llama-server only).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
from lm_eval.api.model import LM

from resources.llm_client import ChatRequest

from ..runner.concurrent import gather_or_cancel
from ..runner.response_store import ResponseStore, stable_hash
from ..runner.target import Target, http_limits
from .tasks import NeedsEndpoint


def request_fields(gen_kwargs: dict[str, Any], default_max: int = 256) -> dict[str, Any]:
    """lm-eval's generation kwargs as request fields: greedy unless do_sample, `until` as stop sequences."""
    until = gen_kwargs.get("until") or []
    until = [until] if isinstance(until, str) else list(until)
    temperature = float(gen_kwargs.get("temperature", 0.0)) if gen_kwargs.get("do_sample") else 0.0
    return {"max_tokens": int(gen_kwargs.get("max_gen_toks", default_max)), "stop": until, "temperature": temperature}


class PlatformLM(LM):
    def __init__(self, target: Target, store: ResponseStore, *, task: str, task_version: str, run_id: str,
                 base_url: str | None, progress: Callable[[int, int, str], None] | None = None,
                 offline: bool = False):
        super().__init__()
        self.offline = offline
        self.target, self.store, self.task, self.task_version = target, store, task, task_version
        self.run_id, self.base_url, self.progress = run_id, base_url, progress
        self.sent = self.cached = 0
        self.records: dict[int, dict[str, Any]] = {}  # doc id -> the record its answer came from

    @property
    def tokenizer_name(self) -> str:
        return f"beyond-vibes/{self.target.variant}"

    def chat_template(self, chat_template: bool | str = False) -> str:
        return "the model's own template, applied by the server"

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return json.dumps({"messages": chat_history})  # decoded again in generate_until

    def loglikelihood(self, requests):  # refused at load time (lmeval/tasks.py); this is the safety net
        raise NotImplementedError("loglikelihood requests need prompt log-probabilities, which the server does not return")

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError("loglikelihood_rolling requests need prompt log-probabilities")

    def key(self, doc_id: int, context: str, fields: dict[str, Any]) -> str:
        return stable_hash({"variant": self.target.variant, "sha": self.target.model_sha256,
                            "build": self.target.engine_build, "task": self.task, "version": self.task_version,
                            "doc": doc_id, "context": context, "gen": fields}, n=24)

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        stored = {k: r for k, r in self.store.latest_by_key().items() if not r.get("failure_mode")}
        out: list[str | None] = [None] * len(requests)
        todo = []
        for i, req in enumerate(requests):
            context, gen_kwargs = req.args
            fields = request_fields(gen_kwargs)
            key = self.key(req.doc_id, context, fields)
            if key in stored:
                out[i] = stored[key]["answer"]
                self.records[req.doc_id] = stored[key]
                self.cached += 1
            else:
                todo.append((i, req.doc_id, context, fields, key))
        if todo and self.offline:
            raise NeedsEndpoint(f"{len(todo)} of {len(requests)} answers are not stored")
        if todo:
            asyncio.run(self._send(todo, out, len(requests)))
        return [o or "" for o in out]

    async def _send(self, todo, out: list, total: int) -> None:
        semaphore = asyncio.Semaphore(max(1, self.target.concurrency))
        done = [total - len(todo)]
        async with httpx.AsyncClient(limits=http_limits(self.target.concurrency), timeout=None) as http:

            async def one(i: int, doc_id: int, context: str, fields: dict[str, Any], key: str) -> None:
                async with semaphore:
                    result = await self._call(http, context, fields)
                record = {"cache_key": key, "variant": self.target.variant, "task": self.task,
                          "task_version": self.task_version, "doc_id": doc_id, "prompt": context, "request": fields,
                          "answer": result.get("text", ""), "model_sha256": self.target.model_sha256,
                          "engine_build": self.target.engine_build, "run_id": self.run_id,
                          "created_at": datetime.now(timezone.utc).isoformat(), **result}
                self.store.append(record)
                self.records[doc_id] = record
                self.sent += 1
                out[i] = record["answer"] if not record.get("failure_mode") else ""
                done[0] += 1
                if self.progress:
                    self.progress(done[0], total, f"doc {doc_id}: {record.get('failure_mode') or 'ok'}")

            await gather_or_cancel([one(*job) for job in todo])

    async def _call(self, http: httpx.AsyncClient, context: str, fields: dict[str, Any]) -> dict[str, Any]:
        sampling = {"temperature": fields["temperature"]}
        extra = {"stop": fields["stop"]} if fields["stop"] else {}
        if context.startswith('{"messages"'):
            messages = json.loads(context)["messages"]
            if self.target.is_llama_server:
                extra["cache_prompt"] = False
            result = await self.target.client.chat(http, ChatRequest(messages=messages, max_tokens=fields["max_tokens"],
                                                                     sampling=sampling, extra_body=extra, timeout_s=120.0))
            return {k: v for k, v in result.to_dict().items() if k not in ("tool_calls",)}
        if not self.base_url:
            return {"failure_mode": "unsupported", "error": "a flat prompt needs llama-server's /v1/completions"}
        started = time.perf_counter()
        try:
            response = await http.post(f"{self.base_url}/v1/completions", timeout=120.0, json={
                "prompt": context, "max_tokens": fields["max_tokens"], **sampling, **extra, "cache_prompt": False})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return {"failure_mode": "timeout" if isinstance(exc, httpx.TimeoutException) else "http_error",
                    "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        usage = body.get("usage") or {}
        latency = time.perf_counter() - started
        return {"text": body["choices"][0]["text"], "finish_reason": body["choices"][0].get("finish_reason"),
                "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
                "latency_s": latency, "server_timings": body.get("timings")}
