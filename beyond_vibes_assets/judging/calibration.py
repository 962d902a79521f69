"""Compile a rubric's judge against its human labels and measure what compilation bought.

The train labels feed the optimizer (BootstrapFewShot by default: it suits 10-50 labels; SIMBA and MIPROv2 are
selectable); the held-out labels score both the uncompiled baseline and the compiled program with the same
agreement figures (quadratic kappa, Spearman, within-1, bias). A failed call is a failure, counted in coverage,
never turned into a score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..catalog.labels import Label, with_criteria
from ..catalog.models_config import EVIDENCE_CHARS
from ..catalog.rubrics import Rubric
from ..scoring.agreement import agreement
from .program import criterion_text, judge_context, judge_once, new_program
from .view import judge_view

Optimizer = Literal["bootstrap", "simba", "mipro"]


@dataclass
class Agreement:
    """Agreement of one program on the held-out labels."""

    n: int
    scored: int
    failures: dict[str, int] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    verdicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.scored / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        figures = {k: (None if isinstance(v, float) and v != v else v) for k, v in self.figures.items()}  # NaN -> None
        return {"n": self.n, "scored": self.scored, "coverage": self.coverage, "failures": self.failures, **figures}


def examples(rubric: Rubric, labels: list[Label], budget: int = EVIDENCE_CHARS) -> list[Any]:
    """Labels as DSPy examples (criterion text + bounded evidence -> score), for the criteria the rubric has."""
    import dspy

    out = []
    for label, criterion in with_criteria(rubric, labels):
        evidence = judge_view(label.sample.model_dump(), list(criterion.sees), budget=budget)
        out.append(dspy.Example(criterion=criterion_text(criterion), evidence=evidence, score=label.score,
                                rationale=label.rationale, label_id=label.id).with_inputs("criterion", "evidence"))
    return out


def tally(held_out: list[Any], ask: Callable[[Any], dict[str, Any]]) -> Agreement:
    """Ask a judge (any backend: a verdict dict with score or failure_mode) about every held-out example; agreement
    over the ones it scored, failures counted apart."""
    human, judged, failures, verdicts = [], [], {}, []
    for ex in held_out:
        verdict = ask(ex)
        verdicts.append({"label_id": ex.label_id, "human": ex.score, **verdict})
        if verdict["score"] is None:
            mode = verdict["failure_mode"] or "unparseable"
            failures[mode] = failures.get(mode, 0) + 1
            continue
        human.append(ex.score)
        judged.append(verdict["score"])
    figures = agreement(human, judged) if human else {}
    return Agreement(len(held_out), len(human), failures, figures, verdicts)


def measure(program: Any, lm: Any, held_out: list[Any], on_call: Callable[[], None] | None = None) -> Agreement:
    """Run the DSPy program on every held-out example; agreement over the ones it scored."""

    def ask(ex: Any) -> dict[str, Any]:
        verdict = judge_once(program, lm, ex.criterion, ex.evidence).to_dict()
        if on_call:
            on_call()
        return verdict

    return tally(held_out, ask)


def _metric(example: Any, prediction: Any, trace: Any = None) -> bool:
    """A judge verdict within one point of the person's counts (a bootstrapped demo keeps the person's rationale
    and score only through the labelled demos; bootstrapped ones are the judge's own agreeing answers)."""
    try:
        score = int(prediction.score)
    except (TypeError, ValueError, AttributeError):
        return False
    return abs(score - example.score) <= 1


def compile_program(lm: Any, train: list[Any], optimizer: Optimizer = "bootstrap", max_demos: int = 2) -> Any:
    """The compiled program; with no train labels, the baseline itself."""
    import dspy

    program = new_program()
    if not train:
        return program
    with judge_context(lm):
        if optimizer == "simba":
            teleprompter = dspy.SIMBA(metric=_metric, bsize=min(8, len(train)), max_demos=max_demos, num_threads=1)
            return teleprompter.compile(program, trainset=train, seed=0)
        if optimizer == "mipro":
            teleprompter = dspy.MIPROv2(metric=_metric, auto="light", max_bootstrapped_demos=max_demos,
                                        max_labeled_demos=max_demos, num_threads=1, seed=0)
            return teleprompter.compile(program, trainset=train)
        teleprompter = dspy.BootstrapFewShot(metric=_metric, max_bootstrapped_demos=max_demos,
                                             max_labeled_demos=max_demos, max_rounds=1, max_errors=len(train) + 1)
        return teleprompter.compile(program, trainset=train)
