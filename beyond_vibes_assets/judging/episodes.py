"""What judge_scores does for the partitions of a run: plan every (episode, rubric criterion, judge) call from the
canonical stored episodes and the saved programs, answer what the cache holds, serve each judge once for the rest
(concurrently up to its width), store the rows per (variant, sim) and put the scores on the episodes' MLflow traces.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import dagster as dg

from resources.warehouse import read_sql

from ..agent.episodes import episode_store
from ..catalog.rubrics import Criterion, Rubric, rubrics_for
from ..orchestration.engine_slot import engine_slot
from ..runner import progress as progress_hooks
from . import calls as call_cache
from .judge_models import ResolvedJudge, resolve_judges
from .program import criterion_text, judge_once, load_program
from .view import judge_view, sample_from_record

# Requests in flight to a judge: its one slot plus one queued, so the slot never waits on the client.
JUDGE_WIDTH = 2


@dataclass
class Call:
    partition: dg.MultiPartitionKey
    episode: dict[str, Any]  # the sim_episodes row (episode_id, trace_id, repeat_index, archetype)
    rubric: Rubric
    criterion: Criterion
    judge: ResolvedJudge
    program: dict[str, Any]  # the judge_programs row of the compiled program
    criterion_text: str
    evidence: str
    content_hash: str
    key: str
    verdict: dict[str, Any] | None = None
    cached: bool = False


@dataclass
class ScoreOutcome:
    done: dict[dg.MultiPartitionKey, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    sent: int = 0


def current_programs(warehouse) -> dict[tuple[str, str], dict[str, Any]]:
    """{(rubric, judge): the latest compiled DSPy program row} from judge_programs."""
    rows = warehouse.query(read_sql("queries/judge_current_programs.sql"))
    return {(r["rubric"], r["judge"]): r for r in rows}


def plan_calls(partition, variant: str, sim, episodes: list[dict[str, Any]], rubrics: dict[str, Rubric],
               judges: list[ResolvedJudge], programs: dict[tuple[str, str], dict[str, Any]]) -> list[Call]:
    """Every call one partition needs, each with its cached verdict when there is one. Raises when an applicable
    rubric has no compiled program yet (materialize judge_program first)."""
    records = {r["episode_id"]: r for r in episode_store(variant, sim.name).records()}
    out = []
    for rubric in rubrics_for(rubrics, sim.task.archetype):
        for judge in [j for j in judges if j.applies_to(rubric.name)]:
            program = programs.get((rubric.name, judge.name))
            if program is None or program["rubric_fingerprint"] != rubric.fingerprint:
                raise RuntimeError(f"no compiled program of rubric {rubric.name!r} for judge {judge.name!r} "
                                   f"matching the rubric as it is now: materialize judge_program[{rubric.name}] first")
            for episode in episodes:
                record = records.get(episode["episode_id"])
                if record is None:
                    raise RuntimeError(f"episode {episode['episode_id']} is in the warehouse but not in the episode store")
                sample = sample_from_record(record)
                for criterion in rubric.model.criteria:
                    text = criterion_text(criterion)
                    evidence = judge_view(sample, list(criterion.sees), budget=judge.config.evidence_chars)
                    content = call_cache.content_hash({"criterion": text, "evidence": evidence})
                    key = call_cache.call_key(program["program_hash"], judge.identity, content, criterion.name)
                    hit = call_cache.cached(key)
                    out.append(Call(partition, episode, rubric, criterion, judge, program, text, evidence, content, key,
                                    hit, hit is not None))
    return out


def _run_misses(context, judge: ResolvedJudge, misses: list[Call], store, llama_server) -> None:
    """Serve the judge once and answer every missing call; each verdict is cached as it arrives."""
    programs: dict[str, Any] = {}
    for call in misses:
        h = call.program["program_hash"]
        if h not in programs:
            data = store.get_bytes(call.program["program_key"])
            if data is None:
                raise RuntimeError(f"program {call.program['program_key']} is missing from the object store")
            programs[h] = load_program(data)
    slot = engine_slot(context, judge.resolved.key) if not judge.resolved.is_api else contextlib.nullcontext()
    answered = [0]

    def done(i: int, verdict: dict[str, Any]) -> None:  # called under answer_all's lock
        call = misses[i]
        call.verdict = verdict
        call_cache.store(call.key, verdict)
        answered[0] += 1
        progress_hooks.report(answered[0], len(misses), f"judge {judge.name}: {call.rubric.name}/{call.criterion.name}")

    with slot, judge.lm(llama_server, store, context.log.info) as (lm, _base):
        answer_all([(programs[c.program["program_hash"]], c.criterion_text, c.evidence) for c in misses], lm, on_done=done)


def answer_all(jobs: list[tuple[Any, str, str]], lm: Any, width: int = JUDGE_WIDTH,
               on_done: Callable[[int, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """(program, criterion text, evidence) jobs answered concurrently up to `width`; verdicts in job order. The
    path judge_scores takes and benchmarks/judge_throughput.py measures."""
    verdicts: list[dict[str, Any]] = [{} for _ in jobs]
    lock = threading.Lock()

    def one(i: int) -> None:
        program, criterion, evidence = jobs[i]
        verdicts[i] = judge_once(program, lm, criterion, evidence).to_dict()
        if on_done:
            with lock:
                on_done(i, verdicts[i])

    with ThreadPoolExecutor(max_workers=max(1, width)) as pool:
        list(pool.map(one, range(len(jobs))))
    return verdicts


def _row(call: Call, variant, scored_at, run_id: str) -> dict[str, Any]:
    v, ep, p = call.verdict or {}, call.episode, call.program
    return {"variant": variant.key, "model": variant.model.name, "quant": variant.quant, "engine": variant.engine_name,
            "sim": str(call.partition.keys_by_dimension["sim"]), "archetype": ep["archetype"],
            "episode_id": ep["episode_id"], "trace_id": ep["trace_id"], "repeat": ep["repeat_index"],
            "rubric": call.rubric.name, "criterion": call.criterion.name, "judge": call.judge.name,
            "score": v.get("score"), "rationale": v.get("rationale"), "failure_mode": v.get("failure_mode"),
            "program_hash": p["program_hash"], "kappa": p["kappa"], "trusted": p["trusted"],
            "content_hash": call.content_hash, "cache_key": call.key, "cached": call.cached,
            "latency_s": v.get("latency_s"), "judge_model_sha256": call.judge.resolved.model_sha256,
            "judge_engine_build": call.judge.resolved.build_key, "run_id": run_id, "scored_at": scored_at}


def judge_partitions(context, catalog, store, llama_server, warehouse, grouped: dict[str, list[str]]) -> ScoreOutcome:
    out = ScoreOutcome()
    try:
        judges = resolve_judges(catalog, log=context.log.info, store=store)
        programs = current_programs(warehouse)
    except Exception as exc:  # noqa: BLE001
        out.failed = {f"{s}|{v}": f"{type(exc).__name__}: {exc}" for v, sims in grouped.items() for s in sims}
        return out
    rubrics = catalog.all_rubrics()
    planned: dict[dg.MultiPartitionKey, list[Call]] = {}
    variants: dict[str, Any] = {}
    for variant_key, sims in grouped.items():
        for name in sims:
            partition = dg.MultiPartitionKey({"variant": variant_key, "sim": name})
            try:
                variants[variant_key] = variants.get(variant_key) or catalog.variant(variant_key)
                sim = catalog.sim(name)
                episodes = warehouse.query(read_sql("queries/judge_episodes.sql"), [variant_key, name])
                planned[partition] = plan_calls(partition, variant_key, sim, episodes, rubrics, judges, programs)
            except Exception as exc:  # noqa: BLE001 - one partition fails alone
                out.failed[str(partition)] = f"{type(exc).__name__}: {exc}"
    calls = [c for cs in planned.values() for c in cs]
    for judge in judges:
        misses = [c for c in calls if c.judge is judge and c.verdict is None]
        if not misses:
            continue
        context.log.info(f"judge {judge.name}: {len(misses)} call(s) to make, "
                         f"{sum(1 for c in calls if c.judge is judge) - len(misses)} cached")
        try:
            _run_misses(context, judge, misses, store, llama_server)
            out.sent += len(misses)
        except Exception as exc:  # noqa: BLE001 - the judge's partitions fail, the others go on
            for call in misses:
                out.failed.setdefault(str(call.partition), f"judge {judge.name}: {type(exc).__name__}: {exc}")
    scored_at = datetime.now(timezone.utc).replace(tzinfo=None)
    for partition, cs in planned.items():
        if str(partition) in out.failed:
            continue
        variant = variants[partition.keys_by_dimension["variant"]]
        rows = [_row(c, variant, scored_at, context.run_id) for c in cs]
        where = {"variant": variant.key, "sim": partition.keys_by_dimension["sim"]}
        warehouse.replace_partition("judge_scores", where, rows)
        logged = _assess(rows, context.log.warning)
        scores = [r["score"] for r in rows if r["score"] is not None]
        out.done[partition] = {
            "judged": len(rows), "scored": len(scores), "failed_calls": len(rows) - len(scores),
            "sent": sum(1 for c in cs if not c.cached), "cached": sum(1 for c in cs if c.cached),
            "mean_score": sum(scores) / len(scores) if scores else None,
            "rubrics": dg.MetadataValue.json(sorted({r["rubric"] for r in rows})),
            "untrusted_programs": dg.MetadataValue.json(sorted({f"{r['rubric']}/{r['judge']}" for r in rows if not r["trusted"]})),
            "mlflow_assessments_logged": logged}
    return out


def _assess(rows: list[dict[str, Any]], warn) -> int:
    """Put each score on its episode's trace as an LLM-judge assessment (once per program hash)."""
    if not any(r["trace_id"] for r in rows):
        return 0
    from ..agent.traces import log_judge_assessments

    try:
        return log_judge_assessments(rows)
    except Exception as exc:  # noqa: BLE001 - the scores are stored; the trace annotation can be redone
        warn(f"MLflow assessments not written: {type(exc).__name__}: {exc}")
        return 0
