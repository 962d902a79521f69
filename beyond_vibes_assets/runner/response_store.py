"""Append-only raw records per (variant, task): the sample cache that makes runs resumable.

Each completed model call is appended as one JSON line and fsynced before the next is counted, so a
run killed at any moment loses at most the calls in flight. Re-runs read the file, skip every sample
whose cache key already has a kept record, and re-score from these records with zero model calls.
The key includes the model file sha256 and the engine build, so one model's answers are never
served as another's (the lm-eval request-cache bug).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from ..settings import subdir

# Failure modes that say the infrastructure failed, not the model: retried on the next run.
INFRA_FAILURES = {"endpoint_unreachable", "server_error", "http_error"}


def stable_hash(value: Any, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:n]


def cache_key(variant: str, task_version: str, sample_id: str, prompt_hash: str, sampling: dict[str, Any],
              model_sha256: str | None, engine_build: str | None, task: str = "") -> str:
    return stable_hash({
        "variant": variant, "task": task, "task_version": task_version, "sample_id": sample_id,
        "prompt_hash": prompt_hash, "sampling": sampling, "model_sha256": model_sha256 or "",
        "engine_build": engine_build or "",
    }, 32)


class ResponseStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    @classmethod
    def for_partition(cls, variant: str, task: str) -> ResponseStore:
        return cls(subdir("responses", variant) / f"{task}.jsonl")

    def records(self) -> list[dict[str, Any]]:
        """All intact records in order; a torn last line (killed mid-write) is ignored."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def latest_by_key(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for rec in self.records():
            latest[rec["cache_key"]] = rec
        return latest

    def attempts_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for rec in self.records():
            counts[rec["cache_key"]] = counts.get(rec["cache_key"], 0) + 1
        return counts

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self._repair_torn_tail()
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def _repair_torn_tail(self) -> None:
        """A kill mid-write leaves a line without its newline; end it so the next record starts clean."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")


def keep(record: dict[str, Any], retry_errors: bool) -> bool:
    """Whether a stored record answers its sample (else the sample is sent again)."""
    mode = record.get("failure_mode")
    if mode is None:
        return True
    return not retry_errors and mode not in INFRA_FAILURES
