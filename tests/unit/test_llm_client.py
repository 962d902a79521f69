"""Client failure classification and provider parsing.

Anthropic's API and rate-limiting responses cannot be reached here (paid API, no network): those
cases use httpx.MockTransport with recorded-shape SSE bodies. Dead endpoints use a real closed port.
"""

import asyncio
import json

import httpx

from resources.llama_server import free_port
from resources.llm_client import AnthropicClient, ChatRequest, OpenAICompatibleClient


def run(client, handler=None, **req):
    async def go():
        transport = httpx.MockTransport(handler) if handler else None
        async with httpx.AsyncClient(transport=transport) as http:
            return await client.chat(http, ChatRequest(messages=[{"role": "user", "content": "hi"}], **req))

    return asyncio.run(go())


def sse(events):
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


def test_dead_endpoint_is_a_failure_mode_not_an_answer(monkeypatch):
    monkeypatch.setenv("CANARY_KEY", "canary-secret-123")
    client = OpenAICompatibleClient(f"http://127.0.0.1:{free_port()}/v1", "m", api_key_env="CANARY_KEY", max_retries=1, backoff_s=0.01)
    result = run(client)
    assert result.failure_mode == "endpoint_unreachable" and result.attempts == 2 and result.text == ""
    assert "canary-secret-123" not in json.dumps(result.to_dict())


def test_openai_stream_parsing_with_tool_calls_and_timings():
    events = [
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_", "arguments": '{"ci'}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": "weather", "arguments": 'ty": "Paris"}'}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 9},
         "timings": {"predicted_per_second": 100.0, "prompt_per_second": 300.0}},
    ]
    result = run(OpenAICompatibleClient("http://x/v1", "m"), lambda r: httpx.Response(200, text=sse(events)))
    assert result.ok and result.tool_calls == [{"name": "get_weather", "arguments": '{"city": "Paris"}', "id": "c1"}]
    assert result.completion_tokens == 9 and result.server_timings["predicted_per_second"] == 100.0
    assert result.ttft_s is not None and result.latency_s >= result.ttft_s


def test_http_status_classification_and_redaction(monkeypatch):
    monkeypatch.setenv("K", "sk-live-abcdef")
    client = OpenAICompatibleClient("http://x/v1", "m", api_key_env="K", max_retries=0)
    overflow = run(client, lambda r: httpx.Response(400, json={"error": {"message": "the request exceeds the available context size"}}))
    assert overflow.failure_mode == "context_overflow"
    echoed = run(client, lambda r: httpx.Response(401, text=f"bad key {r.headers['authorization']}"))
    assert echoed.failure_mode == "http_error" and "sk-live-abcdef" not in echoed.error
    assert run(client, lambda r: httpx.Response(503, text="busy")).failure_mode == "server_error"
    assert run(client, lambda r: httpx.Response(200, text="data: {not json\n\n")).failure_mode == "malformed_response"


def test_retries_then_succeeds_on_5xx():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) < 2:
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, text=sse([{"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}]))

    result = run(OpenAICompatibleClient("http://x/v1", "m", max_retries=2, backoff_s=0.01), handler)
    assert result.ok and result.text == "ok" and result.attempts == 2


def test_timeout_is_recorded_as_timeout():
    async def slow(request):
        await asyncio.sleep(2)
        return httpx.Response(200, text="")

    result = run(OpenAICompatibleClient("http://x/v1", "m", max_retries=0), slow, timeout_s=0.2)
    assert result.failure_mode == "timeout"


def test_anthropic_messages_stream():
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 10}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Par"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "is"}},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "get_weather"}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city":"Paris"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}},
    ]
    seen = {}

    def handler(request):
        seen["body"] = json.loads(request.content)
        seen["headers"] = request.headers
        return httpx.Response(200, text="".join(f"event: x\ndata: {json.dumps(e)}\n\n" for e in events))

    result = run(AnthropicClient("https://api.anthropic.com/v1", "claude-x"), handler)
    assert result.ok and result.text == "Paris" and result.tool_calls[0]["name"] == "get_weather"
    assert result.prompt_tokens == 10 and result.completion_tokens == 7 and result.finish_reason == "tool_use"
    assert seen["headers"]["anthropic-version"] and seen["body"]["stream"] is True


def test_rate_limit_retry_waits_what_retry_after_says(monkeypatch):
    """A 429 with Retry-After (a paid API's behaviour, mocked: no network here) is retried after that delay."""
    import random

    from resources import llm_client

    slept = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(llm_client.asyncio, "sleep", fake_sleep)
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "7"}, text="slow down")
        return httpx.Response(200, text=sse([{"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}]))

    result = run(OpenAICompatibleClient("http://x/v1", "m", max_retries=2, backoff_s=0.01), handler)
    assert result.ok and result.attempts == 2
    assert len(slept) == 1 and 7.0 <= slept[0] <= 7.0 * 1.25
    assert llm_client.retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert llm_client.retry_after_seconds("99999") == llm_client.MAX_RETRY_AFTER_S
    assert llm_client.retry_after_seconds("soon") is None
    delays = {round(llm_client.backoff_delay(1, 0.5, None, random.Random(seed)), 4) for seed in range(5)}
    assert len(delays) == 5 and all(1.0 <= d <= 1.25 for d in delays)  # exponential base, jittered
