"""Every pack sample as an MLflow trace, so single-turn results can be browsed per sample like episodes: one
experiment per pack (`beyond-vibes-pack-<pack>`), one CHAT_MODEL span per sample carrying the messages sent, the
reply, token usage, model and provider under MLflow's own keys (its chat view, Tokens column and cost fill in),
tagged with variant, pack, item and verdict, timed as the request really was.

Written after a partition is scored, never on the request path (benchmarks/harness_overhead.py measures run_pack,
which this does not touch). An index per partition (BEYOND_VIBES_HOME/mlflow/pack_traces) maps each answer to its
trace: a re-scored answer updates its trace's verdict tags, an unchanged one costs nothing (not even MLflow's
import), so re-runs stay as cheap as before.
"""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import datetime
from typing import Any

from ..agent.traces import chat_attributes, chat_reply, mlflow_module
from ..settings import subdir


def verdict_of(row: dict[str, Any]) -> str:
    return row["failure_mode"] or ("passed" if row["passed"] else "failed")


def _index_path(variant: str, task: str):
    return subdir("mlflow", "pack_traces", variant) / f"{task}.json"


def _experiment(mlflow: Any, pack: str) -> str:
    name = f"beyond-vibes-pack-{pack}"
    found = mlflow.get_experiment_by_name(name)
    return found.experiment_id if found else mlflow.create_experiment(name)


def warm_up(packs: list[str]) -> threading.Thread:
    """MLflow imported and its store opened (each pack's experiment made) in a thread, started while a llama-server
    generates: the traces written once it stops then skip MLflow's start-up (seconds), which at the end of a
    backfill's last run was most of the time after its last answer (benchmarks/backfill_overhead.py)."""

    def warm() -> None:
        with contextlib.suppress(Exception):  # only a head start: writing the traces reports any real problem
            mlflow = mlflow_module()
            for pack in packs:
                _experiment(mlflow, pack)
            import litellm  # noqa: F401 - MLflow prices each chat span with it: ~2 s of imports on the first trace

    thread = threading.Thread(target=warm, name="mlflow-warm-up", daemon=True)
    thread.start()
    return thread


def log_pack_samples(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Traces for one partition's scored rows: new answers get one, re-scored ones get their tags updated."""
    if not rows:
        return {"written": 0, "updated": 0}
    variant, task = rows[0]["variant"], rows[0]["task"]
    path = _index_path(variant, task)
    index: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    new = [r for r in rows if r["cache_key"] not in index]
    changed = [r for r in rows if r["cache_key"] in index and index[r["cache_key"]]["verdict"] != verdict_of(r)]
    if not new and not changed:
        return {"written": 0, "updated": 0}
    mlflow = mlflow_module()
    client = mlflow.MlflowClient()
    for r in changed:
        entry = index[r["cache_key"]]
        client.set_trace_tag(entry["trace_id"], "verdict", verdict_of(r))
        client.set_trace_tag(entry["trace_id"], "verdict_reason", (r.get("verdict_reason") or "")[:500])
        entry["verdict"] = verdict_of(r)
    if new:
        experiment = _experiment(mlflow, task)
        for r in new:
            index[r["cache_key"]] = {"trace_id": _log_one(mlflow, experiment, r), "verdict": verdict_of(r)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, sort_keys=True))
    tmp.replace(path)
    return {"written": len(new), "updated": len(changed)}


def _log_one(mlflow: Any, experiment: str, r: dict[str, Any]) -> str:
    from mlflow.entities import SpanType

    created = r.get("created_at")
    started = datetime.fromisoformat(created) if isinstance(created, str) else created
    t0 = int(started.timestamp() * 1e9) if started else None
    end = t0 + int((r.get("latency_s") or 0) * 1e9) if t0 is not None else None
    messages = json.loads(r["prompt_text"]) if r.get("prompt_text") else []
    tags = {"variant": r["variant"], "pack": r["task"], "item": r["sample_id"], "verdict": verdict_of(r),
            "verdict_reason": (r.get("verdict_reason") or "")[:500], "verifier": r.get("verifier") or "",
            "model": r["model"], "quant": r["quant"], "engine": r["engine"], "cache_key": r["cache_key"]}
    span = mlflow.start_span_no_context(
        f"{r['task']}/{r['sample_id']}", span_type=SpanType.CHAT_MODEL, inputs={"messages": messages}, tags=tags,
        experiment_id=experiment, start_time_ns=t0,
        attributes={**{k: r[k] for k in ("ttft_s", "decode_tps", "failure_mode", "score", "difficulty")
                       if r.get(k) is not None},
                    **chat_attributes(r.get("prompt_tokens"), r.get("completion_tokens"), r["model"],
                                      r["engine"] if r["quant"] == "api" else "llama.cpp")})
    reply = chat_reply(r.get("response_text") or "", json.loads(r["tool_calls"]) if r.get("tool_calls") else None, "call")
    span.end(outputs={"choices": [{"index": 0, "message": reply, "finish_reason": r.get("finish_reason") or "stop"}]},
             end_time_ns=end, status="ERROR" if r.get("failure_mode") else "OK")
    return span.trace_id
