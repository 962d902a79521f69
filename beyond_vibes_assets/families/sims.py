"""Simulations as a partition family (variant × sim): run only the episodes the store lacks (episodes of different
sims concurrently, up to the endpoint's width), trace them, then re-score every stored episode from its record
(fixture + stored diff), so a changed criterion re-scores with zero model calls.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from ..agent.episodes import EpisodeSettings, add_trace, episode_rows, episode_store, run_and_record, score
from ..catalog.sims import Sim
from ..engine.manifest import harness_commit
from ..history import load_at_start, new_measurement, sim_history_row
from ..resolve import Endpoint, ResolvedVariant, resolve_variant
from ..runner import progress as progress_hooks
from ..runner.concurrent import gather_or_cancel
from ..runner.family import Hooks, Prepared, Recorded, ServedFamily
from ..runner.target import http_limits


@dataclass
class _Plan:
    resolved: ResolvedVariant
    todo: list[tuple[Sim, int, str, str]]  # (sim, repeat, key, prompt) of every episode to run


def kept(record: dict[str, Any]) -> bool:
    """An episode that never got past the endpoint (no tool ever ran), or whose sandbox failed, is an infrastructure
    failure: run it again."""
    episode = record["episode"]
    if episode["stop_reason"] == "sandbox_error":
        return False
    return not (episode["stop_reason"] == "endpoint_failure" and not any(s["kind"] == "tool" for s in episode["steps"]))


class SimFamily(ServedFamily):
    asset, dimension, coverage_check, history_kind, speed_checks = "sim_episodes", "sim", "every_episode_once", "sim", False

    def __init__(self, settings: EpisodeSettings, *, catalog: Any, object_store: Any, llama_server: Any,
                 llm_clients: Any, warehouse: Any):
        super().__init__(llama_server, object_store)
        self.settings, self.catalog, self.llm_clients, self.warehouse = settings, catalog, llm_clients, warehouse
        self.load: float | None = None

    def begin(self, variants: list[str]) -> None:
        self.load = load_at_start()

    def definition(self, name: str) -> Sim:
        return self.catalog.sim(name)

    def prepare(self, variant: str, sims: dict[str, Sim], hooks: Hooks) -> Prepared:
        resolved = resolve_variant(self.catalog, variant, log=hooks.log, store=self.object_store, warehouse=self.warehouse)
        todo = self.plan(sims, resolved)
        if todo and self.settings.harness == "pi":
            from ..agent.pi_harness import missing_reason

            if missing_reason() or resolved.is_api:
                raise RuntimeError(missing_reason() or "the pi harness runs against local variants only for now")
        return Prepared(variant, sims, len(todo), _Plan(resolved, todo))

    def plan(self, sims: dict[str, Sim], resolved: ResolvedVariant) -> list[tuple[Sim, int, str, str]]:
        """(sim, repeat, key, prompt) for every episode whose record is missing (or an infrastructure failure)."""
        todo = []
        for sim in sims.values():
            have = {k for k, r in episode_store(resolved.key, sim.name).latest_by_key().items() if kept(r)}
            prompt = sim.prompt(self.settings.vars)
            for repeat in range(self.settings.repeats):
                key = self.settings.key(resolved.key, sim, prompt, resolved.model_sha256, resolved.build_key, repeat)
                if key not in have:
                    todo.append((sim, repeat, key, prompt))
        return todo

    def run_variant(self, prepared: Prepared, endpoint: Endpoint, hooks: Hooks):
        plan: _Plan = prepared.state
        resolved = plan.resolved
        if plan.todo:
            target = resolved.target(self.llm_clients, endpoint)
            # agents re-send a growing conversation: the prompt cache is what a real deployment uses, and is on
            extra = {"cache_prompt": True} if target.is_llama_server else {}
            engine = resolved.variant.engine
            pi_options = {"base_url": f"{endpoint.base_url}/v1", "model_id": resolved.key,
                          "context_window": engine.ctx_size // max(1, engine.parallel)} if engine else None
            asyncio.run(run_episodes(plan.todo, self.settings, target, extra, hooks, pi_options))
        commit, dirty = harness_commit()
        manifest = {"harness_commit": commit, "harness_dirty": dirty, "model_sha256": resolved.model_sha256,
                    "engine_build": resolved.build_key, "run_id": hooks.run_id,
                    "sampling_params": json.dumps(self.settings.sampling, sort_keys=True)}
        for name, sim in prepared.definitions.items():
            try:
                yield name, self.record(sim, resolved, manifest)
            except Exception as exc:  # noqa: BLE001 - this partition fails alone
                yield name, exc

    def record(self, sim: Sim, resolved: ResolvedVariant, manifest: dict[str, Any]) -> Recorded:
        store = episode_store(resolved.key, sim.name)
        for record in [r for r in store.latest_by_key().values() if "trace_id" not in r]:
            asyncio.run(add_trace(record, store))  # killed between the episode and its trace: trace it now
        canonical = self.settings.canonical
        rows, steps = score_partition(sim, resolved, self.settings)
        # each series (canonical, pi, native tool calls, ...) of a partition sits beside the others: each replaces
        # only its own rows, and only the canonical one feeds the headline, history and the gate
        where = {"variant": resolved.key, "sim": sim.name, "series": self.settings.series}
        point = sim_history_row(rows, variant=resolved.key, sim=sim.name, fingerprint=sim.fingerprint,
                                manifest=manifest, load=self.load)
        history = [point] if canonical and rows and new_measurement(
            self.warehouse, "sim", resolved.key, sim.name, point["answers_digest"]) else []
        self.warehouse.replace_partitions([("sim_episodes", where, rows), ("sim_steps", where, steps)],
                                          appends=[("score_history", history)])
        ids = [r["episode_id"] for r in rows]
        return Recorded({
            "episodes": len(rows), "success": sum(r["success"] for r in rows),
            "criteria_passed": sum(r["criteria_passed"] for r in rows),
            "criteria_total": sum(r["criteria_total"] for r in rows),
            "stop_reasons": sorted({r["stop_reason"] for r in rows}), "steps": sum(r["steps"] for r in rows),
            "tool_mode": self.settings.tool_mode, "canonical": canonical, "series": self.settings.series,
            "sim_fingerprint": sim.fingerprint,
        }, len(rows), len(set(ids)), self.settings.repeats, tags={"beyond_vibes/canonical": str(canonical).lower()})


async def run_episodes(todo, settings: EpisodeSettings, target, extra: dict[str, Any], hooks: Hooks,
                       pi_options: dict[str, Any] | None = None) -> None:
    """Episodes of different sims concurrently, up to the endpoint's width; each is recorded as it ends."""
    from ..agent.traces import experiment_id

    await asyncio.to_thread(experiment_id)  # import MLflow and open its store once per run, not inside an episode
    semaphore = asyncio.Semaphore(max(1, target.concurrency))
    done = [0]
    progress_hooks.report(0, len(todo), f"{target.variant}: {len(todo)} episode(s)")
    async with httpx.AsyncClient(limits=http_limits(target.concurrency), timeout=None) as http:

        async def one(sim: Sim, repeat: int, key: str, prompt: str) -> None:
            store = episode_store(target.variant, sim.name)
            async with semaphore:
                record = await run_and_record(sim, settings, target=target, store=store, key=key, prompt=prompt,
                                              repeat=repeat, run_id=hooks.run_id, http=http, extra_body=extra,
                                              pi_options=pi_options)
            ep = record["episode"]
            done[0] += 1
            note = (f"{target.variant}: {sim.name} #{repeat} {ep['stop_reason']} after {len(ep['steps'])} steps "
                    f"({ep['wall_s']:.1f}s)")
            progress_hooks.report(done[0], len(todo), note)  # the CLI's live [N/M] line
            hooks.log(note)
            await add_trace(record, store)  # outside the slot: overlaps the next episode

        await gather_or_cancel([one(*job) for job in todo])


def score_partition(sim: Sim, resolved: ResolvedVariant, settings: EpisodeSettings):
    """Rows for the latest stored episode of each wanted repeat, scored now from the record."""
    latest = episode_store(resolved.key, sim.name).latest_by_key()
    prompt = sim.prompt(settings.vars)
    v = resolved.variant
    ident = {"variant": resolved.key, "model": v.model.name, "quant": v.quant, "engine": v.engine_name}
    rows, steps = [], []
    scored_at = datetime.now(timezone.utc).isoformat()
    with tempfile.TemporaryDirectory(prefix="bv-score-") as scratch:
        for repeat in range(settings.repeats):
            record = latest.get(settings.key(resolved.key, sim, prompt, resolved.model_sha256, resolved.build_key, repeat))
            if record is None:
                continue
            row, step_rows = episode_rows(sim, record, score(sim, record, Path(scratch)), ident, settings.canonical,
                                          scored_at, settings.series)
            rows.append(row)
            steps += step_rows
    return rows, steps
