"""Behaviour packs as a partition family (variant × task): send only what the response store lacks, score every
stored answer with the pack's verifiers, replace the partition's rows and append one history row, in one
transaction. A re-materialization after a verifier change makes zero model calls.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from resources.warehouse import read_sql

from ..catalog.packs import Pack
from ..engine.contention import CpuMeter, foreign_load_note
from ..engine.manifest import run_manifest
from ..history import load_at_start, max_foreign_cpu_share, new_measurement, pack_history_row
from ..judging.pack_items import PackItemJudge
from ..resolve import Endpoint, MeasuredSpeed, ResolvedVariant, measured_speed, resolve_variant
from ..runner.family import Hooks, Prepared, Recorded, ServedFamily
from ..runner.pack_runner import RunStats, plan, run_pack, score_records
from ..runner.response_store import ResponseStore
from ..runner.target import CANONICAL_SAMPLING, sampling_with
from ..scoring import judged, sandboxed
from ..scoring.outcomes import contended, rate_fields
from ..settings import settings
from .pack_traces import log_pack_samples, warm_up


@dataclass(frozen=True)
class PackScope:
    """One run's settings for every pack partition: sampling (canonical unless overridden), a fixed timeout, the
    requests in flight, and whether stored failures are re-sent."""

    sampling: dict[str, Any] = field(default_factory=lambda: dict(CANONICAL_SAMPLING))
    timeout_s: float | None = None
    concurrency: int | None = None
    retry_errors: bool = False

    @classmethod
    def of(cls, config: Any) -> PackScope:
        """From a run config (PackRunConfig or anything with the same fields)."""
        return cls(sampling_with(config), config.timeout_s, config.concurrency, config.retry_errors)

    @property
    def canonical(self) -> bool:
        return self.sampling == CANONICAL_SAMPLING


@dataclass
class _Plan:
    resolved: ResolvedVariant


class PackFamily(ServedFamily):
    asset, dimension, coverage_check, history_kind, speed_checks = "pack_results", "task", "every_item_once", "pack", True

    def __init__(self, scope: PackScope, *, catalog: Any, object_store: Any, llama_server: Any, llm_clients: Any,
                 warehouse: Any):
        super().__init__(llama_server, object_store)
        self.scope, self.catalog, self.llm_clients, self.warehouse = scope, catalog, llm_clients, warehouse
        self.speeds: dict[str, MeasuredSpeed] = {}
        self.load: float | None = None
        self.deferred: dict[str, list[list[dict[str, Any]]]] = {}  # per variant: scored rows whose traces wait
        self.warming: dict[str, Any] = {}  # per variant: MLflow's start-up, begun while its server generates

    def begin(self, variants: list[str]) -> None:
        self.speeds = {v: measured_speed(self.warehouse, v) for v in variants}
        self.load = load_at_start()

    def definition(self, name: str) -> Pack:
        return self.catalog.pack(name)

    def prepare(self, variant: str, packs: dict[str, Pack], hooks: Hooks) -> Prepared:
        resolved = resolve_variant(self.catalog, variant, log=hooks.log, store=self.object_store,
                                   speed=self.speeds.get(variant))
        todo = pending(packs, resolved, self.llm_clients, self.scope)
        return Prepared(variant, packs, sum(todo.values()), _Plan(resolved), by_name=todo)

    def execute(self, batch: list[Prepared], hooks: Hooks):
        """As every served family, with a judge lent to the packs' llm_judge items (served on its first cache miss,
        stopped when the batch is done)."""
        if not any("llm_judge" in pack.verifiers for p in batch for pack in p.definitions.values()):
            yield from super().execute(batch, hooks)
            return
        judge = PackItemJudge(self.catalog, self.llama_server, self.object_store, hooks.log)
        try:
            with judged.lend(judge):
                yield from super().execute(batch, hooks)
        finally:
            judge.close()

    def run_variant(self, prepared: Prepared, endpoint: Endpoint, hooks: Hooks):
        resolved = prepared.state.resolved
        if endpoint.server is not None and prepared.pending and settings().pack_traces:
            self.warming[prepared.variant] = warm_up(list(prepared.definitions))
        for name, pack in prepared.definitions.items():
            if endpoint.server is not None and not endpoint.server.alive():
                yield name, RuntimeError(f"llama-server exited (log {endpoint.server.log_path})")
                continue
            # traces cost MLflow's start-up (seconds): while our own llama-server holds the engine pool they wait
            # until it is released, so the next run's variant is not kept waiting for them
            defer = self.deferred.setdefault(prepared.variant, []) if endpoint.server is not None else None
            try:
                stats, rows = execute_pack(pack, resolved, endpoint, llm_clients=self.llm_clients,
                                           warehouse=self.warehouse, scope=self.scope, run_id=hooks.run_id,
                                           load=self.load, progress=hooks.progress(f"{resolved.key} {name}"),
                                           defer_traces=defer)
            except Exception as exc:  # noqa: BLE001 - this partition fails alone
                yield name, exc
                continue
            ids = [r["sample_id"] for r in rows]
            yield name, Recorded(result_metadata(pack, stats, rows, self.scope.canonical), len(ids), len(set(ids)),
                                 len(pack.items), tags={"beyond_vibes/canonical": str(self.scope.canonical).lower()})

    def after_serving(self, prepared: Prepared, hooks: Hooks) -> None:
        """The traces of the partitions a llama-server answered, once it stopped and its engine slot is free."""
        if warming := self.warming.pop(prepared.variant, None):
            warming.join()
        for rows in self.deferred.pop(prepared.variant, []):
            hooks.log(f"{prepared.variant} {rows[0]['task']}: traces {_trace(rows)}")


def execute_pack(pack: Pack, resolved: ResolvedVariant, endpoint: Endpoint, *, llm_clients: Any, warehouse: Any,
                 scope: PackScope, run_id: str, load: float | None = None, progress=None,
                 defer_traces: list[list[dict[str, Any]]] | None = None) -> tuple[RunStats, list[dict[str, Any]]]:
    """Send what the response store lacks, score every stored answer, replace the partition's rows; then write the
    samples' traces, or leave them in `defer_traces` for the caller to write later."""
    store = ResponseStore.for_partition(resolved.key, pack.name)
    started = datetime.now(timezone.utc)
    target = resolved.target(llm_clients, endpoint, scope.concurrency)
    meter = CpuMeter()
    stats = asyncio.run(run_pack(pack, target, store, sampling=scope.sampling, retry_errors=scope.retry_errors,
                                 timeout_override_s=scope.timeout_s, run_id=run_id, progress=progress))
    # measured while answers were generated; an all-cached run carries the figure of the run that produced them
    foreign = meter.foreign_share() if stats.sent else _previous_foreign_share(warehouse, resolved.key, pack.name)
    foreign_note = foreign_load_note(foreign) if stats.sent and foreign and foreign > max_foreign_cpu_share() else None
    executed = sandboxed.stats()["executed"]
    judge = judged.lent()
    judge_before = judge.counts() if judge else (0, 0)
    rows = score_records(pack, target, store, scope.sampling)
    if judge:
        stats.judge_sent, stats.judge_cached = (a - b for a, b in zip(judge.counts(), judge_before))
    if foreign is not None and foreign > max_foreign_cpu_share():  # timeouts while something else took the machine
        for row in rows:
            row["failure_mode"] = contended(row["failure_mode"], True)
    stats.executions = sandboxed.stats()["executed"] - executed  # sandbox runs (execution-backed verifiers)
    props = endpoint.props or {}
    # canonical and override runs of one partition live side by side: each replaces only its own rows
    sampling_key = json.dumps(scope.sampling, sort_keys=True)
    manifest = run_manifest(
        run_id=run_id, asset="pack_results", variant=resolved.key, task=pack.name, model_sha256=resolved.model_sha256,
        engine_build=resolved.build_key,
        engine_version=props.get("build_info") or (resolved.build.server_version if resolved.build else None),
        server_props=props, sampling=scope.sampling, canonical=scope.canonical, started_at=started.isoformat(),
        finished_at=datetime.now(timezone.utc).isoformat(), n_samples=len(rows), n_cached=stats.cached,
        n_sent=stats.sent)
    # canonical results append one history row in the same transaction (overrides stay out of history)
    point = pack_history_row(rows, manifest=manifest, task_fingerprint=pack.fingerprint,
                             concurrency=resolved.concurrency(scope.concurrency), probe_decode_tps=resolved.speed.decode_tps,
                             load=load, foreign_cpu=foreign, foreign_load=foreign_note)
    # a point is a new measurement: the same answers scored again (a cached re-run, a verifier edit) add none
    history = [point] if scope.canonical and rows and new_measurement(
        warehouse, "pack", resolved.key, pack.name, point["answers_digest"]) else []
    warehouse.replace_partitions([
        ("samples", {"variant": resolved.key, "task": pack.name, "sampling_params": sampling_key}, rows),
        ("runs", {"variant": resolved.key, "task": pack.name, "asset": "pack_results", "sampling_params": sampling_key},
         [manifest])], appends=[("score_history", history)])
    if defer_traces is not None and rows and settings().pack_traces:
        defer_traces.append(rows)
        stats.traces = "written once the engine is released (see the run log)"
    else:
        stats.traces = _trace(rows)
    return stats, rows


def _trace(rows: list[dict[str, Any]]) -> str:
    """Each sample as an MLflow trace, after scoring (never on the request path); a failure only says so."""
    if not settings().pack_traces:
        return "off (BEYOND_VIBES_PACK_TRACES=0)"
    try:
        done = log_pack_samples(rows)
    except Exception as exc:  # noqa: BLE001 - the scores are stored; traces are written again next run
        return f"not written: {type(exc).__name__}: {str(exc)[:200]}"
    return f"{done['written']} written, {done['updated']} updated"


def _previous_foreign_share(warehouse: Any, variant: str, task: str) -> float | None:
    rows = warehouse.query(read_sql("queries/previous_foreign_share.sql"), [variant, task])
    return rows[0]["foreign_cpu_share"] if rows else None


def pending(packs: dict[str, Pack], resolved: ResolvedVariant, clients: Any, scope: PackScope) -> dict[str, int]:
    """Items still to send per pack (0 = every answer is stored: no engine needed)."""
    probe_target = resolved.target(clients, Endpoint(None), scope.concurrency)
    return {name: len(plan(pack, probe_target, ResponseStore.for_partition(resolved.key, name), scope.sampling,
                           scope.retry_errors, scope.timeout_s)[0]) for name, pack in packs.items()}


def result_metadata(pack: Pack, stats: RunStats, rows: list[dict[str, Any]], canonical: bool) -> dict[str, Any]:
    """The materialization's figures, counted by the one rule (scoring/outcomes.py) the report and history use."""
    counts = rate_fields((bool(r["passed"]), r["failure_mode"]) for r in rows)
    return {
        "pass_rate": round(counts["rate"], 4) if counts["rate"] is not None else None,
        "answered_rate": round(counts["answered_rate"], 4) if counts["answered_rate"] is not None else None,
        "passed": counts["n_passed"], "items": len(pack.items), "failed_calls": counts["n_failed_calls"],
        "model_failures": counts["n_model_failed"], "failure_modes": dict(stats.failures),
        "sent": stats.sent, "cached": stats.cached, "seconds": round(stats.seconds, 2), "executions": stats.executions,
        "judge_calls_sent": stats.judge_sent, "judge_calls_cached": stats.judge_cached, "traces": stats.traces,
        "canonical": canonical, "pack_fingerprint": pack.fingerprint,
    }
