"""Reproducibility facts every run records: harness commit, host, and what was served."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from typing import Any

import psutil

from ..settings import REPO_ROOT


@functools.lru_cache(maxsize=1)
def harness_commit() -> tuple[str, bool]:
    """(git commit, dirty) of the harness checkout; ('unknown', True) outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        return commit, bool(status)
    except (OSError, subprocess.SubprocessError):
        return "unknown", True


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@functools.lru_cache(maxsize=1)
def host_facts() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
    }


def run_manifest(*, run_id: str, asset: str, variant: str, task: str | None, model_sha256: str | None,
                 engine_build: str | None, engine_version: str | None, server_props: dict[str, Any],
                 sampling: dict[str, Any], canonical: bool, started_at: str, finished_at: str,
                 n_samples: int = 0, n_cached: int = 0, n_sent: int = 0) -> dict[str, Any]:
    """One `runs` row: everything needed to reproduce a result, without any secret."""
    import json

    commit, dirty = harness_commit()
    props = {k: server_props.get(k) for k in ("build_info", "total_slots", "model_ftype", "model_path") if k in server_props}
    return {
        "run_id": run_id, "asset": asset, "variant": variant, "task": task, "harness_commit": commit,
        "harness_dirty": dirty, "model_sha256": model_sha256, "engine_build": engine_build,
        "engine_version": engine_version, "server_props": json.dumps(props), "canonical": canonical,
        "sampling_params": json.dumps(sampling, sort_keys=True), "host": json.dumps(host_facts()),
        "n_samples": n_samples, "n_cached": n_cached, "n_sent": n_sent, "started_at": started_at, "finished_at": finished_at,
    }
