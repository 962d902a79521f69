"""Where requests go and how they sample: the request target every runner (packs, sims, lm-eval, benchmarks)
sends to, the canonical sampling, and the HTTP connection policy for a local engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from resources.llm_client import BaseChatClient

CANONICAL_SAMPLING = {"temperature": 0.0, "top_p": 1.0, "seed": 1234}


def sampling_with(config: Any, keys: tuple[str, ...] = ("temperature", "top_p", "seed")) -> dict[str, Any]:
    """Canonical sampling with a run config's overrides (its non-None `keys`); anything else is non-canonical."""
    return {**CANONICAL_SAMPLING, **{k: getattr(config, k) for k in keys if getattr(config, k, None) is not None}}


@dataclass
class Target:
    """Everything about the endpoint that shapes a request or a cache key."""

    variant: str
    model: str
    quant: str
    engine: str
    client: BaseChatClient
    concurrency: int
    is_llama_server: bool
    model_sha256: str | None = None
    engine_build: str | None = None
    thinking: str = "none"  # none | on | off
    decode_tps: float | None = None  # from engine_probe; scales timeouts
    prompt_tps: float | None = None


def http_limits(concurrency: int) -> httpx.Limits:
    """One connection per request in flight and no keep-alive reuse.

    Reusing a kept-alive connection to llama-server intermittently fails with 'Server disconnected
    without sending a response' (seen here several times per hundred requests); a fresh loopback
    connection per request costs well under a millisecond and removes that race.
    """
    width = max(1, concurrency)
    return httpx.Limits(max_connections=width, max_keepalive_connections=0)
