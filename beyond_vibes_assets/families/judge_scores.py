"""Judge scores as a partition family (variant × sim): every canonical episode scored by every applicable compiled
rubric and judge. The model called is the judge, not the partition's variant: calls the cache holds are answered
at plan time, and each judge is served once for the misses of the whole batch (not once per variant).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

from resources.warehouse import read_sql

from ..catalog.sims import Sim
from ..judging.episodes import Call, answer_misses, assess, current_programs, plan_calls, score_row
from ..judging.judge_models import ResolvedJudge, resolve_judges
from ..runner.family import Hooks, Outcome, Prepared, Recorded


class JudgeScoreFamily:
    asset, dimension, coverage_check, history_kind, speed_checks = "judge_scores", "sim", None, None, False

    def __init__(self, *, catalog: Any, object_store: Any, llama_server: Any, warehouse: Any):
        self.catalog, self.store, self.llama_server, self.warehouse = catalog, object_store, llama_server, warehouse
        self._judges: tuple[list[ResolvedJudge], dict] | None = None

    def begin(self, variants: list[str]) -> None:
        return None

    def definition(self, name: str) -> Sim:
        return self.catalog.sim(name)

    def judges(self, hooks: Hooks) -> tuple[list[ResolvedJudge], dict]:
        """The judges and their current programs, resolved once per run (a failure fails every partition)."""
        if self._judges is None:
            self._judges = (resolve_judges(self.catalog, log=hooks.log, store=self.store), current_programs(self.warehouse))
        return self._judges

    def prepare(self, variant: str, sims: dict[str, Sim], hooks: Hooks) -> Prepared:
        judges, programs = self.judges(hooks)
        rubrics = self.catalog.all_rubrics()
        calls: dict[str, list[Call] | BaseException] = {}
        for name, sim in sims.items():
            try:
                episodes = self.warehouse.query(read_sql("queries/judge_episodes.sql"), [variant, name])
                calls[name] = plan_calls((variant, name), variant, sim, episodes, rubrics, judges, programs)
            except Exception as exc:  # noqa: BLE001 - one partition fails alone
                calls[name] = exc
        misses = sum(1 for cs in calls.values() if isinstance(cs, list) for c in cs if c.verdict is None)
        return Prepared(variant, sims, misses, calls)

    def execute(self, batch: list[Prepared], hooks: Hooks) -> Iterator[Outcome]:
        judges, _ = self.judges(hooks) if batch else ([], {})
        failed: dict[tuple[str, str], BaseException] = {}
        planned = [c for p in batch for cs in p.state.values() if isinstance(cs, list) for c in cs]
        for judge in judges:
            misses = [c for c in planned if c.judge is judge and c.verdict is None]
            if not misses:
                continue
            hooks.log(f"judge {judge.name}: {len(misses)} call(s) to make, "
                      f"{sum(1 for c in planned if c.judge is judge) - len(misses)} cached")
            try:
                answer_misses(judge, misses, self.store, self.llama_server, log=hooks.log,
                              slot=hooks.slot(judge.resolved.key) if not judge.resolved.is_api else nullcontext())
            except Exception as exc:  # noqa: BLE001 - the judge's partitions fail, the others go on
                for call in misses:
                    failed.setdefault(call.partition, RuntimeError(f"judge {judge.name}: {type(exc).__name__}: {exc}"))
        scored_at = datetime.now(timezone.utc).replace(tzinfo=None)
        for prepared in batch:
            variant = self.catalog.variant(prepared.variant)
            for name, calls in prepared.state.items():
                if isinstance(calls, BaseException) or (prepared.variant, name) in failed:
                    yield prepared.variant, name, calls if isinstance(calls, BaseException) else failed[(prepared.variant, name)]
                    continue
                try:
                    yield prepared.variant, name, self.record(variant, name, calls, scored_at, hooks)
                except Exception as exc:  # noqa: BLE001
                    yield prepared.variant, name, exc

    def record(self, variant: Any, sim: str, calls: list[Call], scored_at: datetime, hooks: Hooks) -> Recorded:
        rows = [score_row(c, variant, scored_at, hooks.run_id) for c in calls]
        self.warehouse.replace_partition("judge_scores", {"variant": variant.key, "sim": sim}, rows)
        logged = assess(rows, hooks.warn)
        scores = [r["score"] for r in rows if r["score"] is not None]
        return Recorded({
            "judged": len(rows), "scored": len(scores), "failed_calls": len(rows) - len(scores),
            "sent": sum(1 for c in calls if not c.cached), "cached": sum(1 for c in calls if c.cached),
            "mean_score": sum(scores) / len(scores) if scores else None,
            "rubrics": sorted({r["rubric"] for r in rows}),
            "untrusted_programs": sorted({f"{r['rubric']}/{r['judge']}" for r in rows if not r["trusted"]}),
            "mlflow_assessments_logged": logged}, history=False)

