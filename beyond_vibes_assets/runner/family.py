"""What a family of partitioned work (packs, sims, lm-eval tasks, judge scores) supplies to the one partition run
(fanout.py), and what that run lends it. Dagster-free: a family is plain code tested without Dagster.

A family turns partition names into definitions (`definition`), plans one variant's partitions (`prepare`: how
much still needs a model, so all-answered variants go first and never start an engine), and runs a batch of
prepared variants (`execute`), yielding each partition's outcome the moment it is recorded: `Recorded` (rows
written, metadata, coverage) or the exception that failed that partition alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

Log = Callable[[str], None]
Progress = Callable[[int, int, str], None]


@dataclass
class Hooks:
    """What the partition run lends a family: its run id, logs, the engine-pool slot, live progress."""

    run_id: str
    log: Log = print
    warn: Log = print
    slot: Callable[[str], AbstractContextManager[Any]] = lambda _key: contextlib.nullcontext()
    progress: Callable[[str], Progress] = lambda _label: (lambda done, total, note: None)


@dataclass
class Prepared:
    """One variant's partitions, planned: `pending` counts model calls still to make (0: no engine needed)."""

    variant: str
    definitions: dict[str, Any]
    pending: int
    state: Any = None  # the family's own plan (a resolved variant, episodes to run, judge calls)
    # model calls still to make per partition, from a family whose state serves any subset of its definitions: the
    # run then records this variant's all-answered partitions first, with the others that need no engine
    by_name: dict[str, int] | None = None

    def split(self) -> tuple[Prepared | None, Prepared | None]:
        """(the partitions that need no model call, those that do); None for an empty side."""
        if not self.pending:
            return self, None
        if self.by_name is None:
            return None, self
        answered = {n: d for n, d in self.definitions.items() if not self.by_name.get(n)}
        if not answered:
            return None, self
        todo = {n: d for n, d in self.definitions.items() if n not in answered}
        return (dataclasses.replace(self, definitions=answered, pending=0),
                dataclasses.replace(self, definitions=todo))


@dataclass
class Recorded:
    """A partition done: its rows are written; metadata and coverage for the materialization and the check."""

    metadata: dict[str, Any]
    rows: int | None = None  # rows written (None: this family has no coverage check)
    unique: int | None = None  # distinct items among them
    wanted: int | None = None  # items the partition should have
    history: bool = True  # a canonical scored partition: the history checks read it
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.rows is None or self.rows == (self.unique if self.unique is not None else self.rows) == self.wanted


Outcome = tuple[str, str, "Recorded | BaseException"]  # (variant, partition name, outcome)


class Family(Protocol):
    asset: str  # the asset key, for logs and history
    dimension: str  # the partition dimension beside `variant`
    coverage_check: str | None  # the asset check that every partition holds each item once
    history_kind: str | None  # score_history kind whose checks run after the partitions (None: no history)
    speed_checks: bool

    def begin(self, variants: list[str]) -> None:
        """Reads every variant of the run needs, on one warehouse connection (the run holds a session)."""

    def definition(self, name: str) -> Any: ...

    def prepare(self, variant: str, definitions: dict[str, Any], hooks: Hooks) -> Prepared: ...

    def execute(self, batch: list[Prepared], hooks: Hooks) -> Iterator[Outcome]: ...


class ServedFamily:
    """A family whose model calls go to the partition's own variant: per prepared variant, serve it once (engine
    slot + endpoint, only when something is pending) and run its partitions in order (`run_variant`). A variant that
    cannot be served fails only its partitions not yet done."""

    asset = ""

    def __init__(self, llama_server: Any, object_store: Any):
        self.llama_server, self.object_store = llama_server, object_store

    def begin(self, variants: list[str]) -> None:
        return None

    def run_variant(self, prepared: Prepared, endpoint: Any, hooks: Hooks) -> Iterator[tuple[str, Recorded | BaseException]]:
        raise NotImplementedError

    def after_serving(self, prepared: Prepared, hooks: Hooks) -> None:
        """Work a variant's partitions left for after its engine is released (its slot free for the next run)."""
        return None

    def execute(self, batch: list[Prepared], hooks: Hooks) -> Iterator[Outcome]:
        for prepared in batch:
            done: set[str] = set()
            resolved = prepared.state.resolved
            if prepared.pending:
                hooks.log(f"{prepared.variant}: {len(prepared.definitions)} partition(s), {prepared.pending} call(s) to make")
            try:
                with resolved.serving(self.llama_server, self.object_store, self.asset, hooks.log,
                                      needed=prepared.pending > 0, slot=hooks.slot) as endpoint:
                    for name, outcome in self.run_variant(prepared, endpoint, hooks):
                        done.add(name)
                        yield prepared.variant, name, outcome
            except Exception as exc:  # noqa: BLE001 - the engine would not start or died: the rest of this variant fails
                for name in prepared.definitions:
                    if name not in done:
                        yield prepared.variant, name, exc
            self.after_serving(prepared, hooks)
