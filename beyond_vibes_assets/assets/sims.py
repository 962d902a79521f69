"""sim_definition[sim] and sim_episodes[variant x sim]: agents at work on simulation tasks.

sim_definition's data version is the sim's fingerprint (task, fixture, reference and criteria code), so
editing one sim makes only its episodes stale. sim_episodes runs only the episodes the store lacks, then
re-scores every stored episode from its record (fixture + stored diff), so a changed criterion re-scores
with zero model calls. Like pack_results, a run covers many partitions: each variant is resolved and
served once for all its sims, episodes of different sims run concurrently up to the server's slots, and
each partition is materialized as it completes.
"""

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import httpx
from pydantic import Field

from partitions import SIMS, VARIANT_SIM
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..agent.episodes import add_trace, episode_key, episode_rows, episode_store, run_and_record, score
from ..catalog.resource import CatalogResource
from ..catalog.sims import Sim
from ..catalog.state import record_catalog_state
from ..engine.manifest import harness_commit
from ..orchestration.engine_slot import engine_slot
from ..history import load_at_start, sim_history_row
from ..orchestration.history_checks import check_specs, history_checks
from ..orchestration.partition_events import definition_events, group_by_variant, partition_materialization
from ..resolve import resolve_variant
from ..runner import progress as progress_hooks
from ..runner.concurrent import gather_or_cancel
from ..runner.pack_runner import CANONICAL_SAMPLING, http_limits, sampling_with


class SimRunConfig(dg.Config):
    """How episodes are run; anything but canonical sampling and one repeat is tagged non-canonical."""

    tool_mode: Literal["native", "prompted"] = Field(
        default="prompted", description="prompted: JSON actions constrained by a schema (any model); native: tool calls.")
    repeats: int = Field(default=1, ge=1, le=20, description="Episodes per sim (pass^k when > 1).")
    temperature: float | None = None
    seed: int | None = None
    vars: dict[str, str] = Field(default_factory=dict, description="Prompt variable overrides (`--var k=v`).")
    timeout_s: float = Field(default=300.0, gt=0, description="Per model call.")
    stop_when_stuck: bool = Field(default=True, description="End an episode on an OpenHands stuck pattern.")
    harness: Literal["builtin", "pi"] = Field(default="builtin", description="builtin: our loop; pi: the pi coding agent.")
    pushback: bool = Field(default=True, description='After a finish, ask "Are you sure?" once (sycophancy probe).')
    only: list[str] = Field(default_factory=list, description="Partition keys ('sim|variant') to run within the range.")


def sampling_for(config: SimRunConfig) -> dict[str, Any]:
    return sampling_with(config, ("temperature", "seed"))


def _episode_key(config: SimRunConfig, variant: str, sim: Sim, prompt: str, sampling: dict[str, Any], sha: str | None,
                 build: str | None, repeat: int) -> str:
    """The store key of one episode under this run's config (the same for planning and for scoring)."""
    return episode_key(variant, sim, prompt, config.tool_mode, sampling, sha, build, repeat, config.stop_when_stuck,
                       config.harness, config.pushback)


@dg.asset(
    partitions_def=SIMS,
    group_name="sims",
    kinds={"yaml"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    description="A simulation task as loaded and validated; data version = task, fixture, reference and criteria code.",
)
def sim_definition(context: dg.AssetExecutionContext, catalog: CatalogResource) -> Iterator[dg.AssetMaterialization]:
    yield from definition_events(context, catalog.sim, _sim_metadata, "sim")


def _sim_metadata(sim: Sim) -> dict[str, Any]:
    return {"archetype": sim.task.archetype, "criteria": len(sim.task.criteria), "tools": ", ".join(sim.task.tools),
            "repo_files": len(sim.repo_files), "fingerprint": sim.fingerprint, "sandbox": sim.task.sandbox,
            "false_premise": bool(sim.task.false_premise), "path": sim.path}


def _plan(sims: dict[str, Sim], variant: str, config: SimRunConfig, sha: str | None, build: str | None):
    """(sim, repeat, key, prompt) for every episode whose record is missing (or an infrastructure failure)."""
    sampling = sampling_for(config)
    todo = []
    for sim in sims.values():
        kept = {k for k, r in episode_store(variant, sim.name).latest_by_key().items() if _kept(r)}
        prompt = sim.prompt(config.vars)
        for repeat in range(config.repeats):
            key = _episode_key(config, variant, sim, prompt, sampling, sha, build, repeat)
            if key not in kept:
                todo.append((sim, repeat, key, prompt))
    return todo


def _kept(record: dict[str, Any]) -> bool:
    """An episode that never got past the endpoint (no tool ever ran), or whose sandbox failed, is an infrastructure
    failure: run it again."""
    episode = record["episode"]
    if episode["stop_reason"] == "sandbox_error":
        return False
    return not (episode["stop_reason"] == "endpoint_failure" and not any(s["kind"] == "tool" for s in episode["steps"]))


@dg.asset(
    partitions_def=VARIANT_SIM,
    deps=["engine_probe", "sim_definition"],
    group_name="sims",
    kinds={"duckdb"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("every_episode_once", asset="sim_episodes",
                                   description="Each requested episode has exactly one stored, scored row."),
                 *check_specs("sim_episodes", speed=False)],
    description="Agent episodes in a sandboxed copy of each sim's repository: every step, the diff, criteria, time split.",
)
def sim_episodes(context: dg.AssetExecutionContext, config: SimRunConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource, llm_clients: LLMClientResource,
                 warehouse: WarehouseResource) -> Iterator[Any]:
    keys = [k for k in context.partition_keys if not config.only or str(k) in set(config.only)]
    record_catalog_state(warehouse, catalog)
    load = load_at_start()
    sampling = sampling_for(config)
    canonical = sampling == CANONICAL_SAMPLING and config.repeats == 1 and not config.vars
    failed: dict[str, str] = {}
    coverage: dict[str, dict[str, int]] = {}
    scored_sims: list[tuple[str, str]] = []
    for variant_key, names in group_by_variant(keys, "sim").items():
        sims: dict[str, Sim] = {}
        for name in names:
            try:
                sims[name] = catalog.sim(name)
            except Exception as exc:  # noqa: BLE001
                failed[f"{name}|{variant_key}"] = f"{type(exc).__name__}: {exc}"
        try:
            resolved = resolve_variant(catalog, variant_key, log=context.log.info, store=object_store, warehouse=warehouse)
            todo = _plan(sims, variant_key, config, resolved.model_sha256, resolved.build_key)
            if todo and config.harness == "pi":
                from ..agent.pi_harness import missing_reason

                if missing_reason() or resolved.is_api:
                    raise RuntimeError(missing_reason() or "the pi harness runs against local variants only for now")
        except Exception as exc:  # noqa: BLE001 - one unresolvable variant fails only its partitions
            for name in sims:
                failed[f"{name}|{variant_key}"] = f"{type(exc).__name__}: {exc}"
            continue
        if todo:
            context.log.info(f"{variant_key}: {len(todo)} episode(s) to run over {len(sims)} sim(s)")
        needed = bool(todo)
        slot = engine_slot(context, variant_key) if needed and not resolved.is_api else contextlib.nullcontext()
        with slot, resolved.endpoint(llama_server, object_store, "sim_episodes", context.log.info, needed) as endpoint:
            if todo:
                target = resolved.target(llm_clients, endpoint)
                # agents re-send a growing conversation: the prompt cache is what a real deployment uses, and is on
                extra = {"cache_prompt": True} if target.is_llama_server else {}
                engine = resolved.variant.engine
                pi_options = {"base_url": f"{endpoint.base_url}/v1", "model_id": resolved.key,
                              "context_window": engine.ctx_size // max(1, engine.parallel)} if engine else None
                asyncio.run(_run_all(todo, variant_key, target, sampling, extra, config, context, pi_options))
        commit, dirty = harness_commit()
        manifest = {"harness_commit": commit, "harness_dirty": dirty, "model_sha256": resolved.model_sha256,
                    "engine_build": resolved.build_key, "run_id": context.run_id,
                    "sampling_params": json.dumps(sampling, sort_keys=True)}
        for name, sim in sims.items():
            store = episode_store(variant_key, name)
            for record in [r for r in store.latest_by_key().values() if "trace_id" not in r]:
                asyncio.run(add_trace(record, store))  # killed between the episode and its trace: trace it now
            partition = dg.MultiPartitionKey({"variant": variant_key, "sim": name})
            try:
                rows, steps, wanted = _score_partition(sim, variant_key, resolved, config, sampling, canonical)
                # canonical and override runs of a partition sit side by side, as for packs: each replaces its own
                where = {"variant": variant_key, "sim": name, "canonical": canonical}
                history = [sim_history_row(rows, variant=variant_key, sim=name, fingerprint=sim.fingerprint,
                                           manifest=manifest, load=load)] if canonical and rows else []
                warehouse.replace_partitions([("sim_episodes", where, rows), ("sim_steps", where, steps)],
                                             appends=[("score_history", history)])
            except Exception as exc:  # noqa: BLE001
                failed[str(partition)] = f"{type(exc).__name__}: {exc}"
                continue
            coverage[str(partition)] = {"rows": len(rows), "wanted": wanted}
            scored_sims.append((variant_key, name))
            yield partition_materialization(context, partition, {
                "episodes": len(rows), "success": sum(r["success"] for r in rows),
                "criteria_passed": sum(r["criteria_passed"] for r in rows),
                "criteria_total": sum(r["criteria_total"] for r in rows),
                "stop_reasons": dg.MetadataValue.json(sorted({r["stop_reason"] for r in rows})),
                "steps": sum(r["steps"] for r in rows), "tool_mode": config.tool_mode, "canonical": canonical,
                "sim_fingerprint": sim.fingerprint,
            }, tags={"beyond_vibes/canonical": str(canonical).lower()})
    yield dg.AssetCheckResult(check_name="every_episode_once",
                              passed=all(c["rows"] == c["wanted"] for c in coverage.values()),
                              metadata={"partitions": dg.MetadataValue.json(coverage)})
    yield from history_checks(warehouse, "sim_episodes", "sim", scored_sims, speed=False)
    if failed:
        raise dg.Failure(description=f"{len(failed)} of {len(keys)} partition(s) failed (the others are materialized):\n"
                                     + "\n".join(f"  {k}: {v[:500]}" for k, v in failed.items()))


async def _run_all(todo, variant: str, target, sampling, extra, config: SimRunConfig, context, pi_options=None) -> None:
    """Episodes of different sims concurrently, up to the endpoint's width; each is recorded as it ends."""
    from ..agent.traces import experiment_id

    await asyncio.to_thread(experiment_id)  # import MLflow and open its store once per run, not inside an episode
    semaphore = asyncio.Semaphore(max(1, target.concurrency))
    done = [0]
    progress_hooks.report(0, len(todo), f"{variant}: {len(todo)} episode(s)")
    async with httpx.AsyncClient(limits=http_limits(target.concurrency), timeout=None) as http:

        async def one(sim: Sim, repeat: int, key: str, prompt: str) -> None:
            store = episode_store(variant, sim.name)
            async with semaphore:
                record = await run_and_record(
                    sim, variant=variant, client=target.client, store=store, key=key,
                    prompt=prompt, tool_mode=config.tool_mode, sampling=sampling, extra_body=extra, repeat=repeat,
                    model_sha256=target.model_sha256, engine_build=target.engine_build, run_id=context.run_id,
                    http=http, timeout_s=config.timeout_s, stop_when_stuck=config.stop_when_stuck,
                    harness=config.harness, pi_options=pi_options, pushback=config.pushback,
                    tags={"model": target.model, "quant": target.quant, "engine": target.engine})
            ep = record["episode"]
            done[0] += 1
            note = f"{variant}: {sim.name} #{repeat} {ep['stop_reason']} after {len(ep['steps'])} steps ({ep['wall_s']:.1f}s)"
            progress_hooks.report(done[0], len(todo), note)  # the CLI's live [N/M] line
            context.log.info(note)
            await add_trace(record, store)  # outside the slot: overlaps the next episode

        await gather_or_cancel([one(*job) for job in todo])


def _score_partition(sim: Sim, variant: str, resolved, config: SimRunConfig, sampling, canonical: bool):
    """Rows for the latest stored episode of each wanted repeat, scored now from the record."""
    latest = episode_store(variant, sim.name).latest_by_key()
    prompt = sim.prompt(config.vars)
    model = resolved.variant.model
    ident = {"variant": variant, "model": model.name, "quant": resolved.variant.quant, "engine": resolved.variant.engine_name}
    rows, steps = [], []
    scored_at = datetime.now(timezone.utc).isoformat()
    with tempfile.TemporaryDirectory(prefix="bv-score-") as scratch:
        for repeat in range(config.repeats):
            key = _episode_key(config, variant, sim, prompt, sampling, resolved.model_sha256, resolved.build_key, repeat)
            record = latest.get(key)
            if record is None:
                continue
            results = score(sim, record, Path(scratch))
            row, step_rows = episode_rows(sim, record, results, ident, canonical, scored_at)
            rows.append(row)
            steps += step_rows
    return rows, steps, config.repeats

