"""Judging stored episodes: plan every (episode, rubric criterion, judge) call from the canonical stored episodes
and the saved programs, answer what the cache holds, answer the rest on a running judge (concurrently up to its
width), shape the rows per (variant, sim) and put the scores on the episodes' MLflow traces. families/judge_scores.py
runs it for the partitions of a run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from resources.warehouse import read_sql

from ..agent.episodes import episode_store
from ..catalog.rubrics import Criterion, Rubric, rubrics_for
from ..pools import cancelling_pool
from ..runner import progress as progress_hooks
from . import calls as call_cache
from .judge_models import ResolvedJudge
from .program import criterion_text, judge_once, load_program
from .view import judge_view, sample_from_record

# Requests in flight to a judge: its one slot plus one queued, so the slot never waits on the client.
JUDGE_WIDTH = 2


@dataclass
class Call:
    partition: tuple[str, str]  # (variant, sim)
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


def answer_misses(judge: ResolvedJudge, misses: list[Call], store, llama_server, *, log, slot) -> None:
    """Serve the judge once (in its engine-pool slot) and answer every missing call; each verdict is cached as it
    arrives."""
    programs: dict[str, Any] = {}
    for call in misses:
        h = call.program["program_hash"]
        if h not in programs:
            data = store.get_bytes(call.program["program_key"])
            if data is None:
                raise RuntimeError(f"program {call.program['program_key']} is missing from the object store")
            programs[h] = load_program(data)
    answered = [0]

    def done(i: int, verdict: dict[str, Any]) -> None:  # called under answer_all's lock
        call = misses[i]
        call.verdict = verdict
        call_cache.store(call.key, verdict)
        answered[0] += 1
        progress_hooks.report(answered[0], len(misses), f"judge {judge.name}: {call.rubric.name}/{call.criterion.name}")

    with slot, judge.lm(llama_server, store, log) as (lm, _base):
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

    with cancelling_pool(width) as pool:  # a stop: the calls in flight finish, the queued ones are not sent
        list(pool.map(one, range(len(jobs))))
    return verdicts


def score_row(call: Call, variant, scored_at, run_id: str) -> dict[str, Any]:
    v, ep, p = call.verdict or {}, call.episode, call.program
    return {"variant": variant.key, "model": variant.model.name, "quant": variant.quant, "engine": variant.engine_name,
            "sim": call.partition[1], "archetype": ep["archetype"],
            "episode_id": ep["episode_id"], "trace_id": ep["trace_id"], "repeat": ep["repeat_index"],
            "rubric": call.rubric.name, "criterion": call.criterion.name, "judge": call.judge.name,
            "score": v.get("score"), "rationale": v.get("rationale"), "failure_mode": v.get("failure_mode"),
            "program_hash": p["program_hash"], "kappa": p["kappa"], "trusted": p["trusted"],
            "content_hash": call.content_hash, "cache_key": call.key, "cached": call.cached,
            "latency_s": v.get("latency_s"), "judge_model_sha256": call.judge.resolved.model_sha256,
            "judge_engine_build": call.judge.resolved.build_key, "run_id": run_id, "scored_at": scored_at}


def assess(rows: list[dict[str, Any]], warn) -> int:
    """Put each score on its episode's trace as an LLM-judge assessment (once per program hash)."""
    if not any(r["trace_id"] for r in rows):
        return 0
    from ..agent.traces import log_judge_assessments

    try:
        return log_judge_assessments(rows)
    except Exception as exc:  # noqa: BLE001 - the scores are stored; the trace annotation can be redone
        warn(f"MLflow assessments not written: {type(exc).__name__}: {exc}")
        return 0
