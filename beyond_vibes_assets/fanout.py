"""The one partition run every partitioned `variant × X` asset uses (packs, sims, lm-eval tasks, judge scores).

A family (runner/family.py) supplies Dagster-free definition / prepare / execute; this module does the rest, once:
keep the `only` partitions, group them by variant, record the catalog state, load every definition and prepare
every variant (a broken one fails only its own partitions), run what calls a model and record the all-answered
partitions on one warehouse connection while the run would wait for the engine pool (else after), emit each
partition's materialization the moment it is recorded (those recorded while waiting after the model work), run
the coverage and history checks, and fail the run with one message naming every failed partition as
`<dimension>|<variant>` (Dagster's own key format) while the others stay materialized.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import dagster as dg

from .catalog.state import record_catalog_state
from .orchestration.engine_slot import engine_slot
from .orchestration.history_checks import history_checks
from .orchestration.partition_events import group_by_variant, partition_materialization
from .runner import progress as progress_hooks
from .runner.family import Family, Hooks, Prepared


def hooks_for(context: dg.AssetExecutionContext, while_waiting: Callable[[], None] | None = None) -> Hooks:
    """The run's id, logs, engine-pool slot (with the work to do if it has to wait) and progress, lent to a family."""
    return Hooks(run_id=context.run_id, log=context.log.info, warn=context.log.warning,
                 slot=lambda key: engine_slot(context, key, while_waiting=while_waiting),
                 progress=lambda label: _progress(context, label))


def fan_out(context: dg.AssetExecutionContext, family: Family, *, warehouse: Any, catalog: Any,
            only: Sequence[str] = ()) -> Iterator[Any]:
    keys = [k for k in context.partition_keys if not only or str(k) in set(only)]
    groups = group_by_variant(keys, family.dimension)
    answered: list[Prepared] = []  # partitions whose answers are all stored, not yet recorded
    meanwhile: list[dg.AssetMaterialization] = []  # recorded while waiting for the engine, not yet yielded
    hooks = hooks_for(context, while_waiting=lambda: meanwhile.extend(record_answered()))
    failed: dict[str, str] = {}

    def key(variant: str, name: str) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey({"variant": variant, family.dimension: name})

    def fail(variant: str, name: str, exc: BaseException) -> None:
        failed[str(key(variant, name))] = f"{type(exc).__name__}: {exc}"
        context.log.error(f"{variant} / {name} failed: {type(exc).__name__}: {exc}")

    with warehouse.session():  # the catalog state and what every variant needs: one connection
        record_catalog_state(warehouse, catalog)
        family.begin(list(groups))
    prepared: list[Prepared] = []
    for variant, names in groups.items():
        definitions = {}
        for name in names:
            try:
                definitions[name] = family.definition(name)
            except Exception as exc:  # noqa: BLE001 - a broken definition fails only its own partition
                fail(variant, name, exc)
        if not definitions:
            continue
        try:
            prepared.append(family.prepare(variant, definitions, hooks))
        except Exception as exc:  # noqa: BLE001 - an unresolvable variant fails only its partitions
            for name in definitions:
                fail(variant, name, exc)
    coverage: dict[str, dict[str, Any]] = {}
    scored: list[tuple[str, str]] = []

    def emit(batch: list[Prepared]) -> Iterator[dg.AssetMaterialization]:
        for variant, name, outcome in family.execute(batch, hooks):
            if isinstance(outcome, BaseException):
                fail(variant, name, outcome)
                continue
            partition = key(variant, name)
            if outcome.rows is not None:
                coverage[str(partition)] = {"rows": outcome.rows, "unique": outcome.unique, "wanted": outcome.wanted}
            if outcome.history:
                scored.append((variant, name))
            yield partition_materialization(context, partition, outcome.metadata, tags=outcome.tags)

    def record_answered() -> list[dg.AssetMaterialization]:
        """The partitions that need no model call (whole variants, and a variant's answered partitions where its
        family can split them off), once, on one connection: a burst of short writes that never holds the engine."""
        taken = list(answered)
        answered.clear()
        out: list[dg.AssetMaterialization] = []
        if not taken:
            return out
        try:
            with warehouse.session():
                out.extend(emit(taken))
        except Exception as exc:  # noqa: BLE001 - the warehouse failed: these partitions fail, not the model work
            settled = {event.partition for event in out} | set(failed)
            for p in taken:
                for name in p.definitions:
                    if str(key(p.variant, name)) not in settled:
                        fail(p.variant, name, exc)
        return out

    # what calls a model first, each variant on its own connections (a session is never held while a model
    # generates: other runs write meanwhile); the answered partitions are recorded while the run would wait for the
    # engine pool (hooks.slot), or after the model work when it never had to: the engine is never left idle for them
    # (a backfill's runs start together) and never held while they are written. Their events are stored after the
    # model work too: a partition's event is stored when it is yielded, and the model work yields from inside its
    # variant's serving, where storing 200 events held the engine ~0.8 s (benchmarks/backfill_overhead.py)
    sides = [p.split() for p in prepared]
    answered.extend(a for a, _ in sides if a)
    yield from emit([todo for _, todo in sides if todo])
    yield from meanwhile
    yield from record_answered()
    if family.coverage_check:
        complete = all(c["rows"] == (c["unique"] if c["unique"] is not None else c["rows"]) == c["wanted"]
                       for c in coverage.values())
        yield dg.AssetCheckResult(check_name=family.coverage_check, passed=complete,
                                  metadata={"partitions": dg.MetadataValue.json(coverage)})
    if family.history_kind:
        yield from history_checks(warehouse, family.asset, family.history_kind, scored, speed=family.speed_checks)
    if failed:
        raise dg.Failure(description=f"{len(failed)} of {len(keys)} partition(s) failed (the other "
                                     f"{len(keys) - len(failed)} are materialized):\n"
                                     + "\n".join(f"  {k}: {v[:500]}" for k, v in failed.items()),
                         metadata={k: dg.MetadataValue.text(v[:2000]) for k, v in failed.items()})


def _progress(context: dg.AssetExecutionContext, label: str) -> Callable[[int, int, str], None]:
    """Live progress to the CLI hook; to the run log every 5 s and at the end, once something was sent
    (an all-answered partition logs nothing: its materialization says what was cached)."""
    last: list[float] = [0.0]
    first: list[int | None] = [None]

    def progress(done: int, total: int, note: str) -> None:
        progress_hooks.report(done, total, f"{label}: {note}")
        if first[0] is None:
            first[0] = done
            return
        if done == total or time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            context.log.info(f"[{done}/{total}] {label}: {note}")

    return progress
