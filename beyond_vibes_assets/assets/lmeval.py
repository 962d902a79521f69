"""lm_eval_results[variant x lmeval]: lm-evaluation-harness tasks beside the packs, on the same variants.

Same served engine, same resolution, same warehouse and history as pack_results. lm-eval builds prompts,
filters and metrics; answers come from the platform's response store or its endpoint (lmeval/model.py). A run
first tries every task offline (all answers stored: no engine started), then serves the variant once for the
tasks that still need answers.
"""


import contextlib
import fnmatch
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from typing import Any

import dagster as dg

from partitions import VARIANT_LMEVAL
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.resource import CatalogResource
from ..catalog.state import record_catalog_state
from ..engine.manifest import harness_commit
from ..orchestration.engine_slot import engine_slot
from ..history import load_at_start
from ..orchestration.history_checks import check_specs, history_checks
from ..lmeval.tasks import NeedsEndpoint
from ..orchestration.partition_events import group_by_variant, partition_materialization
from ..resolve import Endpoint, resolve_variant
from ..runner import progress as progress_hooks


def applies(patterns: list[str] | None, variant: str) -> bool:
    return patterns is None or any(fnmatch.fnmatch(variant, p) for p in patterns)


@dg.asset(
    partitions_def=VARIANT_LMEVAL,
    deps=["engine_probe"],
    group_name="lm_eval",
    kinds={"duckdb"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=check_specs("lm_eval_results", speed=False),
    description="lm-evaluation-harness tasks against the variant's engine: per-document rows and lm-eval's metrics with stderr.",
)
def lm_eval_results(context: dg.AssetExecutionContext, catalog: CatalogResource, object_store: ObjectStoreResource,
                    llama_server: LlamaServerResource, llm_clients: LLMClientResource,
                    warehouse: WarehouseResource) -> Iterator[Any]:
    from ..lmeval.run import evaluate  # lm-eval is imported by the run that needs it, not by the code location

    record_catalog_state(warehouse, catalog)
    config = catalog.catalog().lm_eval
    failed: dict[str, str] = {}
    scored: list[tuple[str, str]] = []
    load = load_at_start()
    for variant_key, names in group_by_variant(context.partition_keys, "lmeval").items():
        try:
            resolved = resolve_variant(catalog, variant_key, log=context.log.info, store=object_store, warehouse=warehouse)
            tasks = [config.lm_eval_task(n) for n in names]
        except Exception as exc:  # noqa: BLE001 - one unresolvable variant fails only its partitions
            failed.update({f"{variant_key}|{n}": f"{type(exc).__name__}: {exc}" for n in names})
            continue
        done: dict[str, dict[str, Any]] = {}
        need = []
        offline_target = resolved.target(llm_clients, Endpoint(None))
        for task in tasks:
            if not applies(task.variants, variant_key):
                continue
            try:
                done[task.name] = evaluate(task, offline_target, base_url=None, run_id=context.run_id,
                                           include_path=config.include_path, offline=True)
            except NeedsEndpoint:
                need.append(task)
            except Exception as exc:  # noqa: BLE001 - an unsupported or broken task fails alone
                failed[f"{variant_key}|{task.name}"] = f"{type(exc).__name__}: {exc}"
        if need:
            slot = engine_slot(context, variant_key) if not resolved.is_api else contextlib.nullcontext()
            with slot, resolved.endpoint(llama_server, object_store, "lm_eval_results", context.log.info) as endpoint:
                target = resolved.target(llm_clients, endpoint)
                for task in need:
                    label = f"{variant_key} {task.name}"
                    try:
                        done[task.name] = evaluate(task, target, base_url=endpoint.base_url, run_id=context.run_id,
                                                   include_path=config.include_path,
                                                   progress=lambda d, t, n, _l=label: progress_hooks.report(d, t, f"{_l}: {n}"))
                    except Exception as exc:  # noqa: BLE001
                        failed[f"{variant_key}|{task.name}"] = f"{type(exc).__name__}: {exc}"
        for task in tasks:
            partition = dg.MultiPartitionKey({"variant": variant_key, "lmeval": task.name})
            if task.name not in done:
                if not applies(task.variants, variant_key):
                    yield partition_materialization(context, partition, {"applies": False, "variants": str(task.variants)})
                continue
            out = done[task.name]
            rows, metrics = _store(task, out, resolved, variant_key, warehouse, context.run_id, load)
            scored.append((variant_key, task.name))
            lm = out["lm"]
            yield partition_materialization(context, partition, {
                **metrics, "sent": lm.sent, "cached": lm.cached, "documents": len(rows), "task_version": out["version"]})
    yield from history_checks(warehouse, "lm_eval_results", "lmeval", scored, speed=False)
    if failed:
        raise dg.Failure(description=f"{len(failed)} lm-eval partition(s) failed (the others are materialized):\n"
                                     + "\n".join(f"  {k}: {v[:500]}" for k, v in failed.items()))


def _store(task, out: dict[str, Any], resolved, variant_key: str, warehouse: WarehouseResource, run_id: str,
           load: float | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Replace the partition's rows and aggregate, append one history row, all in one transaction."""
    from ..lmeval.run import history_fields, primary_metric, sample_rows

    results = out["results"].get(task.name, {})
    metric, value, stderr = primary_metric(results)
    v = resolved.variant
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    ident = {"variant": variant_key, "model": v.model.name, "quant": v.quant, "engine": v.engine_name,
             "model_sha256": resolved.model_sha256, "engine_build": resolved.build_key, "scored_at": now}
    rows = sample_rows(task, out["samples"].get(task.name, []), out["lm"], ident, metric, out["version"])
    counts = history_fields(rows)
    commit, dirty = harness_commit()
    score = {"variant": variant_key, "lm_task": task.name, "task_version": out["version"], "metric": metric,
             "value": value, "stderr": stderr, "n": len(rows), "num_fewshot": task.num_fewshot, "task_limit": task.limit,
             "apply_chat_template": task.apply_chat_template, "gen_kwargs": json.dumps(task.gen_kwargs, sort_keys=True),
             "lm_eval_version": package_version("lm_eval"), "results": json.dumps(results, default=str),
             "model_sha256": resolved.model_sha256, "engine_build": resolved.build_key, "run_id": run_id,
             "created_at": now}
    history = {"kind": "lmeval", "variant": variant_key, "model": v.model.name, "quant": v.quant,
               "engine": v.engine_name, "task": task.name, **counts, "rate": value,
               "median_latency_s": None, "load_at_start": load, "harness_commit": commit, "harness_dirty": dirty,
               "model_sha256": resolved.model_sha256, "engine_build": resolved.build_key,
               "task_fingerprint": f"{task.name}@{out['version']}", "sampling_params": score["gen_kwargs"],
               "run_id": run_id, "recorded_at": now}
    where = {"variant": variant_key, "lm_task": task.name}
    warehouse.replace_partitions([("lmeval_samples", where, rows), ("lmeval_scores", where, [score])],
                                 appends=[("score_history", [history])])
    return rows, {"metric": metric, "value": value, "stderr": stderr, "n": len(rows),
                  "failed_calls": counts["n_failed_calls"]}
