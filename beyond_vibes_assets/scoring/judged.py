"""`verifier: llm_judge`: a pack item whose answer needs judgement ("is this summary faithful?"), scored by a judge
model on a rubric file of the pack (`check: {rubric: faithful.yaml, pass_at: 4, judge: ..., labels: ...}`).

The judge is the run's, not the verifier's: the pack run lends one (`judging/pack_items.py`, which serves the
configured judge, caches its calls and measures its agreement with the pack's labels) through `lend`, so this module
stays on the scoring floor. Every criterion must reach `pass_at`; the score is the mean of (score - 1) / 4. A judge
that cannot answer (no judge configured, a dead endpoint, a timeout, an unparseable verdict) is a `judge_failure`:
the machine's, excluded from the rate and asked again next run, never a wrong answer. A verdict from a judge whose
agreement with people was not measured, or fell short, says so (`trusted: false`, ⚠ in its reason and the report).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

from .registry import Response, Verdict, verifier
from .sandboxed import pack_file


class PackJudge(Protocol):
    def judge(self, rubric: Path, labels: Path | None, judge: str | None, prompt: str, reply: str) -> dict[str, Any]:
        """{"judge", "scores": {criterion: 1-5}, "rationales", "trusted", "trust_reason", "kappa"}, or with
        "failure" set (no scores) when the judge could not answer."""
        ...

    def counts(self) -> tuple[int, int]:
        """(calls sent, calls answered from the cache) so far: what a pack run reports."""
        ...


_LENT: ContextVar[PackJudge | None] = ContextVar("pack_judge", default=None)


@contextlib.contextmanager
def lend(judge: PackJudge) -> Iterator[PackJudge]:
    """Make `judge` the one llm_judge items are scored by, for the duration of the block."""
    token = _LENT.set(judge)
    try:
        yield judge
    finally:
        _LENT.reset(token)


def lent() -> PackJudge | None:
    return _LENT.get()


def _failure(reason: str, detail: dict[str, Any] | None = None) -> Verdict:
    return Verdict(False, 0.0, f"judge failure: {reason}", {"execution_failure": "judge_failure", **(detail or {})})


@verifier("llm_judge")
def llm_judge(response: Response, spec: dict[str, Any]) -> Verdict:
    """Every criterion of the pack's rubric scored by the run's judge; passed when each reaches `pass_at`."""
    service = lent()
    if service is None:
        return _failure("no judge serves this scoring (llm_judge items are scored by `packs run` and pack_results)")
    labels = pack_file(spec, spec["labels"]) if spec.get("labels") else None
    try:
        out = service.judge(pack_file(spec, spec["rubric"]), labels, spec.get("judge"), response.prompt, response.text)
    except Exception as exc:  # noqa: BLE001 - a judge that cannot be served is the machine's failure
        return _failure(f"{type(exc).__name__}: {str(exc)[:300]}")
    trust = {k: out.get(k) for k in ("judge", "trusted", "trust_reason", "kappa")}
    if out.get("failure"):
        return _failure(out["failure"], trust)
    scores: dict[str, int] = out["scores"]
    if not scores:
        return _failure("the rubric has no criteria", trust)
    passed = all(s >= spec["pass_at"] for s in scores.values())
    score = sum((s - 1) / 4 for s in scores.values()) / len(scores)
    mark = "" if out.get("trusted") else " ⚠ untrusted"
    reason = f"judge {out.get('judge')}{mark}: " + "; ".join(f"{c} {s}/5" for c, s in scores.items())
    return Verdict(passed, round(score, 4), reason,
                   {**trust, "scores": scores, "rationales": out.get("rationales", {}), "pass_at": spec["pass_at"]})
