"""One MLflow trace per episode, in a SQLite tracking store under BEYOND_VIBES_HOME (MLflow 3 deprecates the file
store): an AGENT root span tagged with the variant, model, quant, engine, sim, archetype, harness, episode and
run ids; a CHAT_MODEL span per model call (the messages it was sent as inputs, the reply as an OpenAI-style choice,
token usage, model and provider under MLflow's own attribute keys, so its chat view and Tokens column fill in) and
a TOOL span per tool call, each at the time it really happened (written from the episode record with its recorded
start and duration). mlflow is imported only here, lazily: it costs seconds of import time that nothing else
should pay.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..settings import settings, subdir
from .tracking_store import ensure_store

EXPERIMENT = "beyond-vibes-sims"


def tracking_uri() -> str:
    """BEYOND_VIBES_MLFLOW_URI (the team profile: a Postgres database of its own), else SQLite under the home, made
    from a migrated empty store when the home has none yet (agent/tracking_store.py)."""
    if uri := settings().mlflow_uri:
        return uri
    db = subdir("mlflow") / "mlflow.db"
    ensure_store(db)
    return f"sqlite:///{db}"


def mlflow_environment() -> None:
    """MLflow's settings for this process and the ones it starts (the `mlflow ui` of `beyond-vibes mlflow`)."""
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")  # the trace id we store must exist
    # MLflow prices CHAT_MODEL spans through litellm, whose import fetches a cost map from the internet (and retries
    # for seconds where there is none, a server's start or first trace view included): its bundled copy instead
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def mlflow_module():
    mlflow_environment()
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def experiment_id() -> str:
    mlflow = mlflow_module()
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    return experiment.experiment_id if experiment else mlflow.create_experiment(EXPERIMENT)


def chat_attributes(prompt_tokens: int | None, completion_tokens: int | None, model: str,
                    provider: str) -> dict[str, Any]:
    """Token usage, model and provider under MLflow's own span keys: its chat view, Tokens column and cost read these."""
    from mlflow.tracing.constant import SpanAttributeKey

    usage = {"input_tokens": prompt_tokens or 0, "output_tokens": completion_tokens or 0}
    return {SpanAttributeKey.CHAT_USAGE: {**usage, "total_tokens": sum(usage.values())},
            SpanAttributeKey.MODEL: model, SpanAttributeKey.MODEL_PROVIDER: provider}


def chat_reply(content: str | None, tool_calls: list[dict[str, Any]] | None, id_prefix: str) -> dict[str, Any]:
    """A reply as an OpenAI-style assistant message (what MLflow's chat view renders), tool calls included."""
    reply: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        reply["tool_calls"] = [{"id": c.get("id") or f"{id_prefix}{i}", "type": "function",
                                "function": {"name": c.get("name", ""), "arguments": c.get("arguments") or "{}"}}
                               for i, c in enumerate(tool_calls)]
    return reply


def log_episode(record: dict[str, Any], tags: dict[str, str]) -> str:
    """Write the episode as a trace; returns its trace id."""
    mlflow = mlflow_module()
    from mlflow.entities import SpanType

    exp = experiment_id()
    episode = record["episode"]
    t0 = int(datetime.fromisoformat(record["started_at"]).timestamp() * 1e9)

    def ns(seconds: float) -> int:
        return t0 + int(seconds * 1e9)

    root = mlflow.start_span_no_context(f"episode {record['sim']}", span_type=SpanType.AGENT,
                                        inputs={"prompt": record["prompt"]}, tags=tags, experiment_id=exp,
                                        attributes={"tool_mode": record["tool_mode"], "isolation": record["isolation"]},
                                        start_time_ns=t0)
    messages = episode.get("messages") or []
    model, quant, engine = (tags.get("variant", "") + "~~").split("~")[:3]
    provider = engine if quant == "api" else "llama.cpp"
    for step in episode["steps"]:
        if step["kind"] == "model":
            sent = step.get("messages_sent")
            inputs = {"messages": messages[:sent]} if sent and messages else {"step": step["index"]}
            span = mlflow.start_span_no_context(
                f"model call {step['index']}", span_type=SpanType.CHAT_MODEL, parent_span=root,
                inputs=inputs, start_time_ns=ns(step["started_s"]),
                attributes={**{k: step[k] for k in ("prompt_tokens", "completion_tokens", "ttft_s", "decode_tps",
                                                    "failure_mode", "format_error") if step[k] is not None},
                            # MLflow's own keys: the chat view, the Tokens column and cost read these
                            **chat_attributes(step["prompt_tokens"], step["completion_tokens"], model, provider)})
            reply = chat_reply(step["reply"], step["tool_calls"], f"call{step['index']}_")
            span.end(outputs={"choices": [{"index": 0, "message": reply,
                                           "finish_reason": "error" if step["failure_mode"] else "stop"}],
                              "server_timings": step["server_timings"]},
                     end_time_ns=ns(step["started_s"] + step["duration_s"]))
        else:
            span = mlflow.start_span_no_context(
                f"{step['tool']}", span_type=SpanType.TOOL, parent_span=root,
                inputs={"arguments": json.loads(json.dumps(step["arguments"], default=str))},
                start_time_ns=ns(step["started_s"]),
                attributes={k: step[k] for k in ("ok", "error_kind", "exit_code") if step[k] is not None})
            span.end(outputs={"observation": step["observation"]}, end_time_ns=ns(step["started_s"] + step["duration_s"]),
                     status="OK" if step["ok"] is not False else "ERROR")
    root.end(outputs={"answer": record["answer"], "stop_reason": episode["stop_reason"],
                      "changed_files": record.get("changed_files")}, end_time_ns=ns(episode["wall_s"]))
    return root.trace_id


def find_traces(filter_string: str | None = None) -> Any:
    """Traces of the sims experiment, e.g. filter_string="tags.variant = 'x'"."""
    mlflow = mlflow_module()
    return mlflow.search_traces(locations=[experiment_id()], filter_string=filter_string, return_type="list")


DATASET = "beyond-vibes-episodes"


def publish_dataset(rows: list[dict[str, Any]]) -> int:
    """Canonical episodes as an MLflow evaluation dataset (inputs: variant, sim, prompt, episode; expectations:
    the deterministic outcome), for judges and `mlflow.genai.evaluate`. Records merge by their inputs, so
    re-publishing adds only new episodes. Returns the number of records sent."""
    mlflow_module()
    from mlflow.genai import datasets

    try:
        dataset = datasets.get_dataset(name=DATASET)
    except Exception:  # noqa: BLE001 - first publication
        dataset = datasets.create_dataset(name=DATASET, experiment_id=experiment_id(), tags={"source": "sim_episodes"})
    records = [{"inputs": {"variant": r["variant"], "sim": r["sim"], "episode_id": r["episode_id"],
                           "prompt": r["prompt_text"], "final_answer": r["final_answer"] or "", "trace_id": r["trace_id"] or ""},
                "expectations": {"success": bool(r["success"]), "criteria_passed": int(r["criteria_passed"]),
                                 "criteria_total": int(r["criteria_total"]), "stop_reason": r["stop_reason"]}}
               for r in rows]
    if records:
        dataset.merge_records(records)
    return len(records)


def log_judge_assessments(rows: list[dict[str, Any]]) -> int:
    """Judge scores as LLM-judge assessments on their episodes' traces (name `<rubric>/<criterion>`, source = the
    judge), so the MLflow UI shows them beside the steps. A trace that already holds the assessment for the same
    program hash is left alone; a failed call is logged as an assessment error, never as a value. Returns the
    number written."""
    mlflow = mlflow_module()
    from mlflow.entities import AssessmentError, AssessmentSource, AssessmentSourceType

    written = 0
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("trace_id"):
            by_trace.setdefault(row["trace_id"], []).append(row)
    for trace_id, items in by_trace.items():
        trace = mlflow.get_trace(trace_id)
        if trace is None:
            continue
        have = {(a.name, (a.metadata or {}).get("program_hash"), a.source.source_id) for a in trace.info.assessments or []}
        for row in items:
            name = f"{row['rubric']}/{row['criterion']}"
            if (name, row["program_hash"], row["judge"]) in have:
                continue
            metadata = {"program_hash": row["program_hash"], "kappa": "" if row["kappa"] is None else f"{row['kappa']:.3f}",
                        "trusted": str(bool(row["trusted"])).lower(), "judge": row["judge"]}
            source = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id=row["judge"])
            if row["score"] is None:
                mlflow.log_feedback(trace_id=trace_id, name=name, source=source, metadata=metadata,
                                    error=AssessmentError(error_code=row["failure_mode"] or "judge_failure",
                                                          error_message=(row["rationale"] or "")[:500]))
            else:
                mlflow.log_feedback(trace_id=trace_id, name=name, value=int(row["score"]), rationale=row["rationale"],
                                    source=source, metadata=metadata)
            written += 1
    return written


def judge_assessments(trace_id: str) -> list[Any]:
    """The LLM-judge assessments on one trace (tests and `inspect`)."""
    trace = mlflow_module().get_trace(trace_id)
    return [a for a in (trace.info.assessments if trace else []) or [] if a.source.source_type == "LLM_JUDGE"]
