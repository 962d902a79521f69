"""Labels against what a judge sees: a label scored on text the judge would not be shown (a smaller evidence budget)
cannot be matched, so such labels are refused with the file and the fix. The label format is catalog/labels.py's.
"""

from __future__ import annotations

from pathlib import Path

from ..catalog.errors import ConfigError, Problem
from ..catalog.labels import Label, with_criteria
from ..catalog.rubrics import Rubric


def evidence_mismatches(rubric: Rubric, labels: list[Label], budget: int) -> list[str]:
    """Pure: ids of the labels whose judge, at `budget` characters, would see other text than the labeller saw: a
    score given on the whole diff cannot be matched by a judge shown half of it."""
    from .view import judge_view

    out = []
    for label, criterion in with_criteria(rubric, labels):
        sample, sees = label.sample.model_dump(), list(criterion.sees)
        if judge_view(sample, sees, budget=label.evidence_chars) != judge_view(sample, sees, budget=budget):
            out.append(label.id)
    return out


def refuse_evidence_mismatch(path: Path, rubric: Rubric, labels: list[Label], budget: int, judge: str) -> None:
    """ConfigError naming the file, the labels and the fix when a judge would not see what the labellers saw."""
    ids = evidence_mismatches(rubric, labels, budget)
    if ids:
        raise ConfigError([Problem(str(path), f"labels {', '.join(ids[:5])}" + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else ""),
                                   "evidence_chars",
                                   f"judge {judge!r} sees {budget} characters, less than these labellers saw",
                                   "raise the judge's `evidence_chars` in models.yaml, or relabel them with "
                                   f"`beyond-vibes judges label --evidence-chars {budget}`")])
