"""pack_definition[task] and pack_results[variant x task]: behaviour packs run and scored.

pack_definition's data version is the pack's fingerprint (items + the code versions of the
verifiers it uses), so editing one verifier makes only that pack's results stale. pack_results sends
only what the response store lacks, then re-scores every stored response: a re-materialization after
a verifier change makes zero model calls.
"""


import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import dagster as dg
from pydantic import Field

from partitions import TASKS, VARIANT_TASK
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource, read_sql

from ..catalog.packs import Pack
from ..catalog.resource import CatalogResource
from ..catalog.state import record_catalog_state
from ..engine.manifest import run_manifest
from ..engine.contention import CpuMeter
from ..orchestration.engine_slot import engine_slot
from ..history import load_at_start, pack_history_row
from ..orchestration.history_checks import check_specs, history_checks
from ..orchestration.partition_events import definition_events, group_by_variant, partition_materialization
from ..resolve import Endpoint, ResolvedVariant, measured_speed, resolve_variant
from ..runner import progress as progress_hooks
from ..runner.pack_runner import CANONICAL_SAMPLING, RunStats, plan, run_pack, sampling_with, score_records
from ..runner.response_store import ResponseStore
from ..scoring import sandboxed


class PackRunConfig(dg.Config):
    """Overrides for one run. Anything but canonical sampling is tagged and kept out of regression gates."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    timeout_s: float | None = Field(default=None, description="Fixed per-sample timeout; default scales with probe speed.")
    concurrency: int | None = Field(default=None, description="Requests in flight; default = server slots.")
    retry_errors: bool = Field(default=False, description="Re-send samples whose stored result is any failure.")
    only: list[str] = Field(default_factory=list, description=(
        "Partition keys ('task|variant') to run within the launched range; empty = every partition of the run."))


def sampling_from(config: PackRunConfig) -> dict[str, Any]:
    return sampling_with(config)


@dg.asset(
    partitions_def=TASKS,
    group_name="packs",
    kinds={"yaml"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    description="A behaviour pack as loaded and validated; data version = items + verifier code versions.",
)
def pack_definition(context: dg.AssetExecutionContext, catalog: CatalogResource) -> Iterator[dg.AssetMaterialization]:
    """Every pack of the run in one go; a broken pack fails only its own partition."""
    yield from definition_events(context, catalog.pack, _pack_metadata, "pack")


def _pack_metadata(pack: Pack) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for item in pack.items:
        counts[item.difficulty] = counts.get(item.difficulty, 0) + 1
    return {"version": pack.version, "items": len(pack.items), "verifiers": ", ".join(pack.verifiers),
            "difficulty": dg.MetadataValue.json(counts), "fingerprint": pack.fingerprint, "path": pack.path}


def execute_pack(pack: Pack, resolved: ResolvedVariant, endpoint: Endpoint, *, llm_clients: LLMClientResource,
                 warehouse: WarehouseResource, config: PackRunConfig, run_id: str,
                 progress: Callable[[int, int, str], None] | None = None) -> tuple[RunStats, list[dict[str, Any]]]:
    """Send what the response store lacks, score every stored answer, replace the partition's rows."""
    sampling = sampling_from(config)
    canonical = sampling == CANONICAL_SAMPLING
    store = ResponseStore.for_partition(resolved.key, pack.name)
    started = datetime.now(timezone.utc)
    load = load_at_start()
    target = resolved.target(llm_clients, endpoint, config.concurrency)
    meter = CpuMeter()
    stats = asyncio.run(run_pack(pack, target, store, sampling=sampling, retry_errors=config.retry_errors,
                                 timeout_override_s=config.timeout_s, run_id=run_id, progress=progress))
    # measured while answers were generated; an all-cached run carries the figure of the run that produced them
    foreign = meter.foreign_share() if stats.sent else _previous_foreign_share(warehouse, resolved.key, pack.name)
    executed = sandboxed.stats()["executed"]
    rows = score_records(pack, target, store, sampling)
    stats.executions = sandboxed.stats()["executed"] - executed  # sandbox runs (execution-backed verifiers)
    props = endpoint.props or {}
    # canonical and override runs of one partition live side by side: each replaces only its own rows
    sampling_key = json.dumps(sampling, sort_keys=True)
    manifest = run_manifest(
        run_id=run_id, asset="pack_results", variant=resolved.key, task=pack.name, model_sha256=resolved.model_sha256,
        engine_build=resolved.build_key,
        engine_version=props.get("build_info") or (resolved.build.server_version if resolved.build else None),
        server_props=props, sampling=sampling, canonical=canonical, started_at=started.isoformat(),
        finished_at=datetime.now(timezone.utc).isoformat(), n_samples=len(rows), n_cached=stats.cached,
        n_sent=stats.sent)
    # canonical results append one history row in the same transaction (overrides stay out of history)
    history = [pack_history_row(rows, manifest=manifest, task_fingerprint=pack.fingerprint,
                                concurrency=resolved.concurrency(config.concurrency),
                                probe_decode_tps=resolved.speed.decode_tps, load=load,
                                foreign_cpu=foreign)] if canonical else []
    warehouse.replace_partitions([
        ("samples", {"variant": resolved.key, "task": pack.name, "sampling_params": sampling_key}, rows),
        ("runs", {"variant": resolved.key, "task": pack.name, "asset": "pack_results", "sampling_params": sampling_key},
         [manifest])], appends=[("score_history", history)])
    return stats, rows


def _previous_foreign_share(warehouse: WarehouseResource, variant: str, task: str) -> float | None:
    rows = warehouse.query(read_sql("queries/previous_foreign_share.sql"), [variant, task])
    return rows[0]["foreign_cpu_share"] if rows else None


def pending(packs: dict[str, Pack], resolved: ResolvedVariant, clients: LLMClientResource,
            config: PackRunConfig) -> dict[str, int]:
    """Items still to send per pack (0 = every answer is stored: no engine needed)."""
    sampling = sampling_from(config)
    probe_target = resolved.target(clients, Endpoint(None), config.concurrency)
    return {name: len(plan(pack, probe_target, ResponseStore.for_partition(resolved.key, name), sampling,
                           config.retry_errors, config.timeout_s)[0]) for name, pack in packs.items()}


def result_metadata(pack: Pack, stats: RunStats, rows: list[dict[str, Any]], canonical: bool) -> dict[str, Any]:
    passed = sum(1 for r in rows if r["passed"])
    return {
        "pass_rate": round(passed / len(rows), 4) if rows else 0.0, "passed": passed, "items": len(pack.items),
        "failed_calls": sum(1 for r in rows if r["failure_mode"]), "failure_modes": dg.MetadataValue.json(stats.failures),
        "sent": stats.sent, "cached": stats.cached, "seconds": round(stats.seconds, 2), "executions": stats.executions,
        "canonical": canonical, "pack_fingerprint": pack.fingerprint,
    }


@dg.asset(
    partitions_def=VARIANT_TASK,
    deps=["engine_probe", "pack_definition"],
    group_name="packs",
    kinds={"duckdb"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("every_item_once", asset="pack_results",
                                   description="Every pack item of the run's partitions has exactly one stored, scored row."),
                 *check_specs("pack_results", speed=True)],
    description="One record per pack item: prompt, raw response, tokens, TTFT, tok/s, verdict, failure mode.",
)
def pack_results(context: dg.AssetExecutionContext, config: PackRunConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                 llm_clients: LLMClientResource, warehouse: WarehouseResource) -> Iterator[Any]:
    """Every partition of the run, variant by variant: each variant is resolved and served once for all its
    packs; variants with nothing to send go first, without a server, on one warehouse connection.
    Each partition is materialized as it completes; a failed one fails the run without undoing the others.
    The `engine` pool is held only while a llama-server serves (engine_slot.py): all-answered partitions never queue."""
    keys = [k for k in context.partition_keys if not config.only or str(k) in set(config.only)]
    groups = group_by_variant(keys)
    with warehouse.session():  # the catalog state and every variant's probe speed: one connection
        record_catalog_state(warehouse, catalog)
        speeds = {variant_key: measured_speed(warehouse, variant_key) for variant_key in groups}
    canonical = sampling_from(config) == CANONICAL_SAMPLING
    failed: dict[str, str] = {}
    coverage: dict[str, dict[str, int]] = {}
    scored: list[tuple[str, str]] = []

    def fail(variant_key: str, task: str, exc: BaseException) -> None:
        failed[f"{task}|{variant_key}"] = f"{type(exc).__name__}: {exc}"
        context.log.error(f"{variant_key} / {task} failed: {type(exc).__name__}: {exc}")

    plans: list[tuple[ResolvedVariant, dict[str, Pack], int]] = []
    for variant_key, tasks in groups.items():
        packs: dict[str, Pack] = {}
        for task in tasks:
            try:
                packs[task] = catalog.pack(task)
            except Exception as exc:  # noqa: BLE001 - a broken pack fails only its own partition
                fail(variant_key, task, exc)
        try:
            resolved = resolve_variant(catalog, variant_key, log=context.log.info, store=object_store,
                                       speed=speeds[variant_key])
            plans.append((resolved, packs, sum(pending(packs, resolved, llm_clients, config).values())))
        except Exception as exc:  # noqa: BLE001 - one unresolvable variant fails only its partitions
            for task in packs:
                fail(variant_key, task, exc)

    def score_variant(resolved: ResolvedVariant, packs: dict[str, Pack], to_send: int) -> Iterator[Any]:
        """Every pack of one variant on one endpoint (a server only when something is to be sent)."""
        needed = to_send > 0
        if needed:
            context.log.info(f"{resolved.key}: {len(packs)} pack(s), {to_send} item(s) to send")
        slot = engine_slot(context, resolved.key) if needed and not resolved.is_api else contextlib.nullcontext()
        with slot, resolved.endpoint(llama_server, object_store, "pack_results", context.log.info, needed) as endpoint:
            for name, pack in packs.items():
                if endpoint.server is not None and not endpoint.server.alive():
                    fail(resolved.key, name, RuntimeError(f"llama-server exited (log {endpoint.server.log_path})"))
                    continue
                try:
                    stats, rows = execute_pack(pack, resolved, endpoint, llm_clients=llm_clients, warehouse=warehouse,
                                               config=config, run_id=context.run_id,
                                               progress=_progress(context, f"{resolved.key} {name}"))
                except Exception as exc:  # noqa: BLE001
                    fail(resolved.key, name, exc)
                    continue
                ids = [r["sample_id"] for r in rows]
                coverage[f"{name}|{resolved.key}"] = {"rows": len(ids), "unique": len(set(ids)), "items": len(pack.items)}
                scored.append((resolved.key, name))
                yield partition_materialization(context, dg.MultiPartitionKey({"variant": resolved.key, "task": name}),
                                                result_metadata(pack, stats, rows, canonical),
                                                tags={"beyond_vibes/canonical": str(canonical).lower()})

    # all-answered variants first, on one connection (a burst of short writes, no engine); then those that send,
    # each on its own connections: a session is never held while a model generates (other runs write meanwhile)
    with warehouse.session():
        for plan in plans:
            if not plan[2]:
                yield from score_variant(*plan)
    for plan in plans:
        if plan[2]:
            yield from score_variant(*plan)
    complete = all(c["rows"] == c["unique"] == c["items"] for c in coverage.values())
    yield dg.AssetCheckResult(check_name="every_item_once", passed=complete,
                              metadata={"partitions": dg.MetadataValue.json(coverage)})
    yield from history_checks(warehouse, "pack_results", "pack", scored, speed=True)
    if failed:
        raise dg.Failure(description=f"{len(failed)} of {len(keys)} partition(s) failed (the other "
                                     f"{len(keys) - len(failed)} are materialized):\n"
                                     + "\n".join(f"  {k}: {v[:500]}" for k, v in failed.items()),
                         metadata={k: dg.MetadataValue.text(v[:2000]) for k, v in failed.items()})


def _progress(context: dg.AssetExecutionContext, label: str) -> Callable[[int, int, str], None]:
    """Live progress to the CLI hook; to the run log every 5 s and at the end, once something was sent
    (an all-answered partition logs nothing: its materialization says what was cached)."""
    last, first = [0.0], [None]

    def progress(done: int, total: int, note: str) -> None:
        progress_hooks.report(done, total, f"{label}: {note}")
        if first[0] is None:
            first[0] = done
            return
        if done == total or time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            context.log.info(f"[{done}/{total}] {label}: {note}")

    return progress
