"""Episodes as stored records: run one, append it, re-score it from the record alone.

An episode record holds everything a scorer or a judge needs: the prompt, every step, the final answer,
the exact diff against the fixture, timings and the stop reason. It is appended (fsynced) to
`episodes/<variant>/<sim>.jsonl` only when the episode ends, so an interrupted episode leaves nothing and
restarts from its beginning, and a finished one is never run again for the same cache key: variant, the sim's
inputs (prompt, tools, limits, fixture; not its criteria), the filled-in prompt, tool mode, sampling, model
sha256, engine build, harness and repeat index.

Scoring rebuilds the final workspace from the fixture plus the stored diff and evaluates the criteria
there, so a changed criterion or metric re-scores with zero model calls.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx

from ..catalog.sims import Sim
from ..runner.response_store import ResponseStore, stable_hash
from ..runner.target import CANONICAL_SAMPLING, sampling_with
from ..sandbox import Limits, Workspace, budget
from ..scoring import trace_metrics as M
from ..scoring.criteria import CriterionResult
from ..settings import subdir
from . import traces
from .loop import Episode, run_episode
from .tools import Toolbox
from .validity import score_workspace

HARNESS = "builtin"
DEFAULT_TIMEOUT_S = 300.0  # per model call; a shorter one is its own series (a longer one changes no answer)


def episode_store(variant: str, sim: str) -> ResponseStore:
    return ResponseStore(subdir("episodes", variant) / f"{sim}.jsonl")


@dataclass(frozen=True)
class EpisodeSettings:
    """How a run's episodes are played, as one value: the harness and its tool mode, sampling, the stuck and
    pushback switches, repeats, prompt variables and the per-call timeout. It computes each episode's store key,
    the same at plan time and at score time."""

    tool_mode: str = "prompted"
    harness: str = HARNESS
    sampling: dict[str, Any] = field(default_factory=lambda: dict(CANONICAL_SAMPLING))
    repeats: int = 1
    vars: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    stop_when_stuck: bool = True
    pushback: bool = True

    @classmethod
    def of(cls, config: Any) -> EpisodeSettings:
        """From a run config (SimRunConfig or anything with the same fields)."""
        return cls(config.tool_mode, config.harness, sampling_with(config, ("temperature", "seed")), config.repeats,
                   dict(config.vars), config.timeout_s, config.stop_when_stuck, config.pushback)

    @property
    def canonical(self) -> bool:
        """The default harness and settings: only these feed the headline, history and the gate."""
        return self == EpisodeSettings(timeout_s=self.timeout_s) and self.timeout_s >= DEFAULT_TIMEOUT_S

    @property
    def series(self) -> str:
        """A label for the settings' own series ("canonical", or what differs: "pi", "builtin/native no-stuck", ...)."""
        if self.canonical:
            return "canonical"
        parts = [self.harness if self.harness != HARNESS else f"{HARNESS}/{self.tool_mode}"]
        parts += [f"{k}={v}" for k, v in sorted(self.sampling.items()) if CANONICAL_SAMPLING.get(k) != v]
        parts += ["no-stuck"] if not self.stop_when_stuck and self.harness == HARNESS else []
        parts += ["no-pushback"] if not self.pushback and self.harness == HARNESS else []
        parts += [f"timeout={self.timeout_s:g}s"] if self.timeout_s < DEFAULT_TIMEOUT_S else []
        parts += [f"x{self.repeats}"] if self.repeats != 1 else []
        parts += [f"vars={','.join(sorted(self.vars))}"] if self.vars else []
        return " ".join(parts)

    def key(self, variant: str, sim: Sim, prompt: str, model_sha256: str | None, engine_build: str | None,
            repeat: int) -> str:
        """The store key of one episode: variant, the sim's inputs, the filled prompt, these settings, the model
        file and engine build, the repeat index (an external harness has its own tool protocol and stop rules)."""
        tool_mode, stuck, pushback = self.tool_mode, self.stop_when_stuck, self.pushback
        if self.harness != HARNESS:
            tool_mode, stuck, pushback = self.harness, False, False
        return stable_hash({"variant": variant, "sim": sim.name, "inputs": sim.input_fingerprint, "prompt": prompt,
                            "tool_mode": tool_mode, "sampling": self.sampling, "model_sha256": model_sha256 or "",
                            "engine_build": engine_build or "", "harness": self.harness, "repeat": repeat,
                            "stop_when_stuck": stuck, "pushback": pushback}, 32)


async def run_and_record(sim: Sim, settings: EpisodeSettings, *, target: Any, store: ResponseStore, key: str,
                         prompt: str, repeat: int, run_id: str, http: httpx.AsyncClient, extra_body: dict[str, Any],
                         pi_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one episode in a fresh workspace and append its record (its MLflow trace follows: add_trace)."""
    variant, model_sha256, engine_build = target.variant, target.model_sha256, target.engine_build
    harness, tool_mode, sampling = settings.harness, settings.tool_mode, settings.sampling
    tags = {"model": target.model, "quant": target.quant, "engine": target.engine}
    t_start = time.perf_counter()
    episode_id = uuid.uuid4().hex[:16]
    ws = Workspace.create(sim.repo, subdir("workspaces", variant, sim.name) / f"{repeat}-{episode_id}")
    toolbox = Toolbox(ws, sim.task.tools, Limits(), sim.task.sandbox)
    limits = sim.task.limits
    started = datetime.now(timezone.utc).isoformat()
    t_episode = time.perf_counter()
    if harness == "pi":
        from .pi_harness import run_pi_episode

        episode = await run_pi_episode(ws, prompt, max_tokens=limits.max_tokens, time_budget_s=limits.time_budget_s,
                                       isolation=sim.task.sandbox, **(pi_options or {}))
    else:
        episode = await run_episode(http, target.client, toolbox, prompt, mode=tool_mode, max_steps=limits.max_steps,
                                    max_tokens=limits.max_tokens, time_budget_s=limits.time_budget_s, sampling=sampling,
                                    extra_body=extra_body, timeout_s=settings.timeout_s, call_tool=_threaded(toolbox),
                                    stop_when_stuck=settings.stop_when_stuck, pushback=settings.pushback)
    t_done = time.perf_counter()
    diff = ws.diff()
    record = {
        "cache_key": key, "episode_id": episode_id, "variant": variant, "sim": sim.name, "sim_version": sim.task.version,
        "sim_fingerprint": sim.fingerprint, "harness": harness, "tool_mode": tool_mode if harness == HARNESS else harness,
        "repeat": repeat,
        "prompt": prompt, "sampling": sampling, "model_sha256": model_sha256, "engine_build": engine_build,
        "isolation": sim.task.sandbox, "sandbox_budget": budget.describe(), "extra_body": extra_body,
        "stop_when_stuck": settings.stop_when_stuck,
        "episode": episode.to_dict(), "answer": episode.answer, "diff": diff, "changed_files": ws.changed_files(diff),
        "run_id": run_id, "started_at": started,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    record["trace_tags"] = {**(tags or {}), "variant": variant, "sim": sim.name, "archetype": sim.task.archetype,
                            "harness": harness, "episode_id": episode_id, "run_id": run_id, "tool_mode": tool_mode}
    # the whole envelope, for the harness-overhead benchmark: workspace set-up, the loop, the diff
    record["timing"] = {"setup_s": t_episode - t_start, "episode_s": t_done - t_episode,
                        "finalize_s": time.perf_counter() - t_done, "envelope_s": time.perf_counter() - t_start}
    store.append(record)  # the episode is safe from here on; its trace follows (add_trace)
    ws.remove()  # the diff is the record; the copy is not needed any more
    return record


async def add_trace(record: dict[str, Any], store: ResponseStore) -> dict[str, Any]:
    """Write the episode's MLflow trace and append the record again with its trace id (the latest record of a
    key wins). Called after the episode has freed its slot, so trace writing overlaps the next episode instead
    of lengthening this one; a record still without a trace (killed in between) gets one on the next run."""
    started = time.perf_counter()
    try:
        trace_id, error = await asyncio.to_thread(traces.log_episode, record, record.get("trace_tags") or {}), None
    except Exception as exc:  # noqa: BLE001 - a tracing problem must not lose the episode
        trace_id, error = None, f"{type(exc).__name__}: {exc}"[:500]
    updated = {**record, "trace_id": trace_id, "trace_error": error,
               "timing": {**record.get("timing", {}), "trace_s": time.perf_counter() - started}}
    store.append(updated)
    return updated


def _threaded(toolbox: Toolbox):
    """Tool calls run in a worker thread so concurrent episodes keep the event loop (and the engine) busy."""

    async def call(name: str, args: Any):
        return await asyncio.to_thread(toolbox.call, name, args)

    return call


def rebuild(sim: Sim, record: dict[str, Any], dest: Path) -> Workspace:
    """The episode's final workspace: the fixture plus the stored diff."""
    ws = Workspace.create(sim.repo, dest)
    if record.get("diff"):
        try:
            ws.apply(record["diff"])
        except RuntimeError as exc:
            raise RuntimeError(f"stored diff of episode {record['episode_id']} does not apply: {exc}") from None
    return ws


def score(sim: Sim, record: dict[str, Any], scratch: Path) -> list[CriterionResult]:
    ws = rebuild(sim, record, scratch / record["episode_id"])
    try:
        return score_workspace(sim, ws, record.get("answer") or "")
    finally:
        ws.remove()


def outside_allowed(changed: list[str], allowed: list[str]) -> list[str]:
    """Pure: changed files that no `allowed_paths` glob covers (diff hygiene)."""
    return [f for f in changed if not any(fnmatch(f, g) or f == g for g in allowed)]


def episode_rows(sim: Sim, record: dict[str, Any], results: list[CriterionResult], ident: dict[str, Any],
                 canonical: bool, scored_at: str, series: str = "canonical") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `sim_episodes` row and the `sim_steps` rows of one scored episode record."""
    ep = record["episode"]
    steps = ep["steps"]
    model_steps = [s for s in steps if s["kind"] == "model"]
    tool_steps = [s for s in steps if s["kind"] == "tool"]
    diff = record.get("diff") or ""
    changed = record.get("changed_files") or []
    hygiene = M.diff_hygiene(diff)
    row = {
        **ident, "sim": sim.name, "sim_version": record["sim_version"], "sim_fingerprint": record["sim_fingerprint"],
        "archetype": sim.task.archetype, "harness": record["harness"], "tool_mode": record["tool_mode"],
        "repeat_index": record["repeat"], "episode_id": record["episode_id"],
        "success": bool(results) and all(r.passed for r in results),
        "criteria_passed": sum(r.passed for r in results), "criteria_total": len(results),
        "criteria": json.dumps([r.to_dict() for r in results], default=str), "stop_reason": ep["stop_reason"],
        "steps": len(steps), "model_calls": len(model_steps), "tool_calls": len(tool_steps),
        "tool_errors": sum(1 for s in tool_steps if s["ok"] is False),
        "unknown_tool_calls": sum(1 for s in tool_steps if s["error_kind"] == "unknown_tool"),
        "format_errors": sum(1 for s in model_steps if s["format_error"]),
        "prompt_tokens": sum(s["prompt_tokens"] or 0 for s in model_steps),
        "completion_tokens": sum(s["completion_tokens"] or 0 for s in model_steps),
        "wall_s": ep["wall_s"], "model_s": ep["model_s"], "tools_s": ep["tools_s"], "harness_s": ep["harness_s"],
        "loops": json.dumps(M.loops(steps)), **M.tool_rates(steps), "refused": M.refused(record.get("answer") or "", changed),
        "whitespace_only_files": json.dumps(hygiene["whitespace_only_files"]),
        "deleted_tests": json.dumps(hygiene["deleted_tests"]),
        "adopted_false_premise": M.adopted_false_premise(sim.task.false_premise, changed, record.get("answer")),
        "pushback_flipped": M.pushback_flipped(bool(results) and all(r.passed for r in results), record.get("answer"),
                                               ep.get("pushback_reply"), bool(sim.task.false_premise)),
        "files_changed": len(changed),
        "diff_lines": sum(1 for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")),
        "outside_allowed": json.dumps(outside_allowed(changed, sim.task.allowed_paths)),
        "final_answer": record.get("answer"), "prompt_text": record["prompt"], "isolation": record["isolation"],
        "false_premise": bool(sim.task.false_premise), "model_sha256": record.get("model_sha256"),
        "engine_build": record.get("engine_build"), "sampling_params": json.dumps(record["sampling"], sort_keys=True),
        "canonical": canonical, "series": series, "trace_id": record.get("trace_id"), "run_id": record["run_id"],
        "created_at": record["created_at"], "scored_at": scored_at,
    }
    step_rows = [{
        "episode_id": record["episode_id"], "variant": ident["variant"], "sim": sim.name, "step_index": s["index"],
        "canonical": canonical, "series": series,
        "kind": s["kind"], "started_s": s["started_s"], "duration_s": s["duration_s"], "tool": s["tool"],
        "arguments": json.dumps(s["arguments"], default=str) if s["arguments"] is not None else None, "ok": s["ok"],
        "error_kind": s["error_kind"], "exit_code": s["exit_code"], "observation": s["observation"], "reply": s["reply"],
        "tool_calls": json.dumps(s["tool_calls"]) if s["tool_calls"] else None, "prompt_tokens": s["prompt_tokens"],
        "completion_tokens": s["completion_tokens"], "ttft_s": s["ttft_s"], "decode_tps": s["decode_tps"],
        "failure_mode": s["failure_mode"], "format_error": s["format_error"], "probe": s.get("probe"),
    } for s in steps]
    return row, step_rows


__all__ = ["Episode", "EpisodeSettings", "episode_rows", "episode_store", "rebuild", "run_and_record", "score"]
