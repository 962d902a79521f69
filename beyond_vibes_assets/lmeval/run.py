"""Run one lm-eval task for one variant through lm-eval's Python API and shape its output for the warehouse."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ..catalog.models_config import LmEvalTask
from ..runner.response_store import ResponseStore
from ..runner.target import Target
from ..scoring.outcomes import rate_fields
from .model import PlatformLM
from .tasks import NeedsEndpoint, task_manager, task_spec

STORE_PREFIX = "lmeval."  # response stores live beside the packs' as responses/<variant>/lmeval.<task>.jsonl


def evaluate(task: LmEvalTask, target: Target, *, base_url: str | None, run_id: str, include_path: str | None = None,
             progress=None, offline: bool = False) -> dict[str, Any]:
    """lm-eval builds the prompts, filters and metrics; PlatformLM answers from the store or the endpoint."""
    import lm_eval

    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    spec, version = task_spec(task.name, include_path)
    store = ResponseStore.for_partition(target.variant, STORE_PREFIX + task.name)
    lm = PlatformLM(target, store, task=task.name, task_version=version, run_id=run_id, base_url=base_url,
                    progress=progress, offline=offline)
    if not task.apply_chat_template and not target.is_llama_server:
        raise ValueError(f"lm-eval task {task.name}: apply_chat_template: false needs a llama-server variant "
                         "(API models take chat messages only)")
    if isinstance(spec, str) and not hub_reachable():
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # cached datasets still load; others fail at once
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        out = lm_eval.simple_evaluate(
            model=lm, tasks=[spec], num_fewshot=task.num_fewshot, limit=task.limit, log_samples=True,
            task_manager=task_manager(isinstance(spec, dict)),
            apply_chat_template=task.apply_chat_template, gen_kwargs=task.gen_kwargs or None, bootstrap_iters=1000,
            random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0)
    except NeedsEndpoint:
        raise
    except Exception as exc:
        if isinstance(spec, str) and os.environ.get("HF_DATASETS_OFFLINE") == "1":
            raise RuntimeError(
                f"lm-eval task {task.name}: its dataset is not in the local cache and the Hugging Face hub is not "
                f"reachable (HF_DATASETS_OFFLINE=1 is set, so nothing is downloaded): {type(exc).__name__}: "
                f"{str(exc)[:300]}. Run it once online to cache the dataset, or use a local task folder") from exc
        raise
    return {"results": out["results"], "samples": out["samples"], "lm": lm, "version": version,
            "config": out.get("configs", {})}


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether huggingface.co answers at all (a TCP connect): offline, lm-eval's dataset loads would retry."""
    import socket

    if os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def primary_metric(results: dict[str, Any]) -> tuple[str, float | None, float | None]:
    """(metric name with its filter, value, lm-eval's stderr) of the task's first reported metric."""
    for key, value in results.items():
        if "," in key and not key.split(",")[0].endswith("_stderr") and isinstance(value, (int, float)):
            metric, flt = key.split(",", 1)
            stderr = results.get(f"{metric}_stderr,{flt}")
            return key, float(value), float(stderr) if isinstance(stderr, (int, float)) else None
    return "", None, None


def sample_rows(task: LmEvalTask, samples: list[dict[str, Any]], lm: PlatformLM, ident: dict[str, Any],
                metric: str, version: str) -> list[dict[str, Any]]:
    """One warehouse row per document: the prompt lm-eval built, the response, the target, every metric, and the
    timings we measured ourselves."""
    name = metric.split(",")[0]
    rows = []
    for s in samples:
        record = lm.records.get(s["doc_id"], {})
        metrics = {k: v for k, v in s.items() if isinstance(v, (int, float, bool)) and k not in ("doc_id",)}
        value = metrics.get(name)
        rows.append({
            **ident, "lm_task": task.name, "task_version": version, "doc_id": int(s["doc_id"]),
            "prompt_text": record.get("prompt"), "response_text": record.get("answer"),
            "filtered": json.dumps(s.get("filtered_resps"), default=str), "target": str(s.get("target")),
            "metrics": json.dumps(metrics), "metric": name, "value": float(value) if value is not None else None,
            "passed": bool(value) if value is not None and not record.get("failure_mode") else False,
            "failure_mode": record.get("failure_mode"), "error": record.get("error"),
            "ttft_s": record.get("ttft_s"), "latency_s": record.get("latency_s"), "decode_tps": record.get("decode_tps"),
            "completion_tokens": record.get("completion_tokens"), "cache_key": record.get("cache_key"),
            "run_id": record.get("run_id"),
        })
    return rows


def history_fields(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rate_fields((bool(r["passed"]), r["failure_mode"]) for r in rows)
