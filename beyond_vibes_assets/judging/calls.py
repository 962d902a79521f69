"""The judge-call cache: one stored verdict per (program hash, judge model file + engine build, episode content,
criterion), under BEYOND_VIBES_HOME/judge_calls. A re-materialization of judge_scores reads it and sends nothing;
a recompiled program has a new hash, so only its own calls run again.

Parse failures at temperature 0 are stored (asking again would give the same answer); timeouts and dead endpoints
are not, so a later run retries them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..settings import subdir

RETRIED = {"timeout", "endpoint_failure"}


def content_hash(sample: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sample, sort_keys=True).encode()).hexdigest()


def call_key(program_hash: str, judge_identity: str, sample_hash: str, criterion: str) -> str:
    raw = json.dumps([program_hash, judge_identity, sample_hash, criterion])
    return hashlib.sha256(raw.encode()).hexdigest()


def _path(key: str):
    return subdir("judge_calls", key[:2]) / f"{key}.json"


def cached(key: str) -> dict[str, Any] | None:
    path = _path(key)
    return json.loads(path.read_text()) if path.exists() else None


def store(key: str, verdict: dict[str, Any]) -> None:
    if verdict.get("failure_mode") in RETRIED:
        return
    path = _path(key)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(verdict, sort_keys=True))
    tmp.replace(path)
