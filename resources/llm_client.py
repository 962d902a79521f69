"""Async, streaming LLM clients that time every request and classify every failure.

One result type for llama-server, any OpenAI-compatible endpoint and Anthropic's Messages API, so a
local quant and a frontier API model are measured the same way. The server's own `timings` (when it
sends them) are kept beside the client figures, labelled, never blended.

API keys are read from the environment at call time and scrubbed from every error string; they are
never stored on the client, in results or in logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import dagster as dg
import httpx

FAILURE_MODES = (
    "endpoint_unreachable",
    "http_error",
    "server_error",
    "timeout",
    "malformed_response",
    "context_overflow",
)
RETRYABLE = {"endpoint_unreachable", "server_error", "rate_limited"}


@dataclass
class ChatRequest:
    messages: list[dict[str, Any]]
    max_tokens: int = 256
    sampling: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, seed, ...
    tools: list[dict[str, Any]] | None = None
    response_format: dict[str, Any] | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)  # engine-specific (cache_prompt, chat_template_kwargs)
    timeout_s: float = 120.0


@dataclass
class ChatResult:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None
    latency_s: float | None = None
    client_tps: float | None = None  # completion tokens / wall time
    decode_tps: float | None = None  # completion tokens / (wall - TTFT)
    server_timings: dict[str, Any] | None = None  # llama-server's own figures, as sent
    failure_mode: str | None = None
    error: str | None = None
    http_status: int | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.failure_mode is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Failure(Exception):
    def __init__(self, mode: str, message: str, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.mode = mode
        self.status = status
        self.retry_after_s = retry_after_s


MAX_RETRY_AFTER_S = 120.0


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped; None if absent/unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - (now if now is not None else time.time())
        except (TypeError, ValueError):
            return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


def backoff_delay(attempt: int, base_s: float, retry_after_s: float | None, rng: random.Random | None = None) -> float:
    """The server's Retry-After when it sent one, else exponential backoff; plus up to 25% jitter so
    concurrent requests that failed together do not retry together."""
    delay = retry_after_s if retry_after_s is not None else base_s * (2**attempt)
    return delay * (1 + 0.25 * (rng or random).random())


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "[REDACTED]") if secret else text


def _classify_status(status: int, body: str) -> str:
    lowered = body.lower()
    if status == 429:
        return "rate_limited"
    if "context" in lowered and ("exceed" in lowered or "length" in lowered or "too long" in lowered):
        return "context_overflow"
    if status >= 500:
        return "server_error"
    return "http_error"


async def _sse_events(response: httpx.Response):
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            yield json.loads(payload)
        except json.JSONDecodeError as exc:
            raise _Failure("malformed_response", f"undecodable stream event: {payload[:200]}") from exc


def _finish_timing(result: ChatResult, started: float) -> None:
    result.latency_s = time.perf_counter() - started
    tokens = result.completion_tokens
    if tokens and result.latency_s > 0:
        result.client_tps = tokens / result.latency_s
        if result.ttft_s is not None and result.latency_s > result.ttft_s:
            result.decode_tps = tokens / (result.latency_s - result.ttft_s)


class BaseChatClient:
    """Retry, timeout and failure classification shared by every provider."""

    def __init__(self, base_url: str, model: str, api_key_env: str | None = None, max_retries: int = 2,
                 backoff_s: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.max_retries = max_retries
        self.backoff_s = backoff_s

    def _key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    async def chat(self, http: httpx.AsyncClient, request: ChatRequest) -> ChatResult:
        result = ChatResult()
        secret = self._key()
        for attempt in range(self.max_retries + 1):
            result = ChatResult(attempts=attempt + 1)
            retry_after = None
            started = time.perf_counter()
            try:
                await asyncio.wait_for(self._stream(http, request, result, started, secret), request.timeout_s)
                _finish_timing(result, started)
                return result
            except _Failure as exc:
                result.failure_mode, result.error, result.http_status = exc.mode, _redact(str(exc), secret), exc.status
                retry_after = exc.retry_after_s
            except (TimeoutError, httpx.TimeoutException):
                result.failure_mode, result.error = "timeout", f"no complete answer within {request.timeout_s:.1f}s"
            except httpx.ConnectError as exc:
                result.failure_mode, result.error = "endpoint_unreachable", _redact(f"{type(exc).__name__}: {exc}", secret)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                result.failure_mode, result.error = "server_error", _redact(f"connection lost mid-response: {type(exc).__name__}: {exc}", secret)
            except httpx.HTTPError as exc:
                result.failure_mode, result.error = "http_error", _redact(f"{type(exc).__name__}: {exc}", secret)
            result.latency_s = time.perf_counter() - started
            if result.failure_mode not in RETRYABLE or attempt == self.max_retries:
                break
            await asyncio.sleep(backoff_delay(attempt, self.backoff_s, retry_after))
        if result.failure_mode == "rate_limited":
            result.failure_mode = "http_error"
        return result

    async def _stream(self, http, request, result, started, secret):  # pragma: no cover - abstract
        raise NotImplementedError


class OpenAICompatibleClient(BaseChatClient):
    """Chat completions over SSE: llama-server, OpenAI, vLLM, anything OpenAI-compatible."""

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            **request.sampling,
        }
        if request.tools:
            body["tools"] = request.tools
        if request.response_format:
            body["response_format"] = request.response_format
        body.update(request.extra_body)
        return body

    async def _stream(self, http, request, result, started, secret):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        calls: dict[int, dict[str, Any]] = {}
        text, reasoning = [], []
        async with http.stream("POST", f"{self.base_url}/chat/completions", json=self.build_body(request),
                               headers=headers, timeout=request.timeout_s) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode("utf-8", "replace")[:2000]
                raise _Failure(_classify_status(response.status_code, body), f"HTTP {response.status_code}: {body}",
                               response.status_code, retry_after_seconds(response.headers.get("retry-after")))
            async for event in _sse_events(response):
                if "error" in event:
                    msg = json.dumps(event["error"])[:2000]
                    raise _Failure(_classify_status(500, msg), f"stream error: {msg}")
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    piece = delta.get("content") or ""
                    think = delta.get("reasoning_content") or ""
                    if (piece or think or delta.get("tool_calls")) and result.ttft_s is None:
                        result.ttft_s = time.perf_counter() - started
                    text.append(piece)
                    reasoning.append(think)
                    for call in delta.get("tool_calls") or []:
                        slot = calls.setdefault(call.get("index", len(calls)), {"name": "", "arguments": ""})
                        fn = call.get("function") or {}
                        slot["name"] += fn.get("name") or ""
                        slot["arguments"] += fn.get("arguments") or ""
                        if call.get("id"):
                            slot["id"] = call["id"]
                    if choice.get("finish_reason"):
                        result.finish_reason = choice["finish_reason"]
                usage = event.get("usage")
                if usage:
                    result.prompt_tokens = usage.get("prompt_tokens")
                    result.completion_tokens = usage.get("completion_tokens")
                if event.get("timings"):
                    result.server_timings = event["timings"]
        if result.finish_reason is None and not text and not calls:
            raise _Failure("malformed_response", "stream ended without a choice or finish_reason")
        result.text = "".join(text)
        result.reasoning = "".join(reasoning)
        result.tool_calls = [calls[i] for i in sorted(calls)]
        if result.completion_tokens is None and result.server_timings:
            result.completion_tokens = result.server_timings.get("predicted_n")
            result.prompt_tokens = result.server_timings.get("prompt_n")


class AnthropicClient(BaseChatClient):
    """Anthropic Messages API over SSE, mapped onto the same ChatResult."""

    api_version = "2023-06-01"

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        system = "\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [m for m in request.messages if m["role"] != "system"]
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": request.max_tokens, "stream": True}
        body.update({k: v for k, v in request.sampling.items() if k in ("temperature", "top_p", "top_k")})
        if system:
            body["system"] = system
        if request.extra_body.get("stop"):  # packs' and lm-eval's stop sequences, in Anthropic's name
            body["stop_sequences"] = list(request.extra_body["stop"])
        if request.tools:
            body["tools"] = [
                {"name": t["function"]["name"], "description": t["function"].get("description", ""),
                 "input_schema": t["function"].get("parameters", {"type": "object"})}
                for t in request.tools
            ]
        return body

    async def _stream(self, http, request, result, started, secret):
        headers = {"anthropic-version": self.api_version}
        if secret:
            headers["x-api-key"] = secret
        blocks: dict[int, dict[str, Any]] = {}
        async with http.stream("POST", f"{self.base_url}/messages", json=self.build_body(request),
                               headers=headers, timeout=request.timeout_s) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode("utf-8", "replace")[:2000]
                mode = "server_error" if response.status_code == 529 else _classify_status(response.status_code, body)
                raise _Failure(mode, f"HTTP {response.status_code}: {body}", response.status_code,
                               retry_after_seconds(response.headers.get("retry-after")))
            async for event in _sse_events(response):
                kind = event.get("type")
                if kind == "message_start":
                    result.prompt_tokens = (event.get("message", {}).get("usage") or {}).get("input_tokens")
                elif kind == "content_block_start":
                    blocks[event["index"]] = dict(event.get("content_block") or {}, partial="")
                elif kind == "content_block_delta":
                    if result.ttft_s is None:
                        result.ttft_s = time.perf_counter() - started
                    delta = event.get("delta") or {}
                    block = blocks.setdefault(event.get("index", 0), {"type": "text", "partial": ""})
                    block["partial"] += delta.get("text") or delta.get("thinking") or delta.get("partial_json") or ""
                elif kind == "message_delta":
                    result.finish_reason = (event.get("delta") or {}).get("stop_reason")
                    result.completion_tokens = (event.get("usage") or {}).get("output_tokens")
                elif kind == "error":
                    raise _Failure("server_error", f"stream error: {json.dumps(event.get('error'))[:2000]}")
        for index in sorted(blocks):
            block = blocks[index]
            if block.get("type") == "tool_use":
                result.tool_calls.append({"id": block.get("id"), "name": block.get("name", ""), "arguments": block["partial"] or "{}"})
            elif block.get("type") == "thinking":
                result.reasoning += block["partial"]
            else:
                result.text += block["partial"]
        if result.finish_reason is None:
            raise _Failure("malformed_response", "stream ended without message_delta")


def make_client(provider: str, base_url: str, model: str, api_key_env: str | None = None,
                max_retries: int = 2) -> BaseChatClient:
    cls = AnthropicClient if provider == "anthropic" else OpenAICompatibleClient
    return cls(base_url, model, api_key_env=api_key_env, max_retries=max_retries)


class LLMClientResource(dg.ConfigurableResource):
    """Retry and timeout policy for every model call; clients are built per variant from the catalog."""

    max_retries: int = 2
    default_timeout_s: float = 120.0

    def client(self, provider: str, base_url: str, model: str, api_key_env: str | None = None) -> BaseChatClient:
        return make_client(provider, base_url, model, api_key_env, self.max_retries)
