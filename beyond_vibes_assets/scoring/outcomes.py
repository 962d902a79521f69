"""Whose failure is it: every failure mode has one owner, and one rule turns outcomes into rates.

The model's failures count as wrong answers: its code never ends (`execution_timeout`), it is too slow on a
machine nothing else loaded (`timeout`), it overflows its context, its reply is malformed. The machine's
failures are excluded from the rate, retried on the next run and shown: a dead or erroring endpoint, a rate
limit, a sandbox that could not start, a verifier bug, a failed judge, a timeout while other processes took the machine
(`timeout_contended`). The headline is the strict rate, passed over everything the model was asked (machine
failures aside); the rate over the answers it gave is shown beside it.

One definition, in one place: the `failure_owners` view (sql/views/000_failure_owners.sql), which the SQL views
join and this module reads, so Python and SQL count exactly the same way. Unknown modes are the machine's
(excluded and shown: never a wrong answer nobody explained).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stats import wilson

MODEL, MACHINE = "model", "machine"
OWNERS_SQL = Path(__file__).resolve().parents[2] / "sql" / "views" / "000_failure_owners.sql"


def _owners() -> dict[str, str]:
    """The (failure mode, owner) rows of the `failure_owners` view: the single definition both sides read."""
    rows = re.findall(r"\('([a-z_]+)',\s*'(model|machine)'\)", OWNERS_SQL.read_text())
    if not rows:
        raise RuntimeError(f"no failure owners in {OWNERS_SQL}")
    return dict(rows)


OWNERS: dict[str, str] = _owners()


def owner(failure_mode: str | None) -> str | None:
    """'model', 'machine', or None for no failure."""
    if not failure_mode:
        return None
    return OWNERS.get(failure_mode, MACHINE)


def episode_failure(stop_reason: str | None) -> str | None:
    """The failure mode of an episode that ended by failing (None for an episode that ran its course, successful or
    not): a dead endpoint and a failed sandbox are the machine's; a context overflow is the model's."""
    return stop_reason if stop_reason in ("endpoint_failure", "sandbox_error", "context_overflow") else None


def contended(failure_mode: str | None, slowed: bool) -> str | None:
    """A timeout during a run that other processes slowed is the machine's, not the model's."""
    return "timeout_contended" if failure_mode == "timeout" and slowed else failure_mode


@dataclass(frozen=True)
class Counts:
    n: int  # items asked
    n_passed: int
    n_model_failed: int  # the model's failures: wrong answers
    n_machine_failed: int  # the machine's: excluded

    @property
    def n_scored(self) -> int:
        """The denominator of the strict (headline) rate: everything but the machine's failures."""
        return self.n - self.n_machine_failed

    @property
    def n_answered(self) -> int:
        """Replies a verifier scored (no failure at all): the denominator of the answered rate."""
        return self.n_scored - self.n_model_failed

    @property
    def rate(self) -> float | None:
        return self.n_passed / self.n_scored if self.n_scored else None

    @property
    def answered_rate(self) -> float | None:
        return self.n_passed / self.n_answered if self.n_answered else None


def count(outcomes: Iterable[tuple[bool, str | None]]) -> Counts:
    """(passed, failure mode) per item -> counts. A failed item never passes, whatever its flag says."""
    n = passed = model = machine = 0
    for ok, mode in outcomes:
        n += 1
        who = owner(mode)
        if who == MACHINE:
            machine += 1
        elif who == MODEL:
            model += 1
        elif ok:
            passed += 1
    return Counts(n, passed, model, machine)


def rate_fields(outcomes: Iterable[tuple[bool, str | None]]) -> dict[str, Any]:
    """Counts, the strict rate (headline) with its Wilson interval, and the rate over answers, from (passed, failure
    mode) per item: the one counting rule for pack, sim and lm-eval history rows and materialization metadata."""
    c = count(outcomes)
    lo, hi = wilson(c.n_passed, c.n_scored)
    return {"n": c.n, "n_answered": c.n_answered, "n_passed": c.n_passed, "n_failed_calls": c.n_machine_failed,
            "n_model_failed": c.n_model_failed, "rate": c.rate, "answered_rate": c.answered_rate,
            "ci_low": lo, "ci_high": hi}
