"""Human labels (`judges/labels/<rubric>.jsonl`): one line per judged sample and criterion, with the sample itself
(task, final answer, diff, transcript), a 1-5 score and a one-line rationale, so labels are reproducible without
any stored episode. The train / held-out split is deterministic and by sample: a hash of the judged artefact, so
all criteria of one sample fall on the same side.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, Problem, validation_problems
from .rubrics import Criterion, Rubric

# Half the artefacts are held out: a compiled program keeps at most a few demos (max_demos, default 2), so training
# needs little, while trust is decided on the low end of kappa's interval over the held-out labels, which needs many.
HELD_OUT_SHARE = 0.5


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: str = ""
    final_answer: str = ""
    diff: str = ""
    transcript: str = ""


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    sim: str
    criterion: str
    score: int = Field(ge=1, le=5)
    rationale: str = Field(min_length=5)
    source: Literal["reference", "flawed", "episode"] = "episode"
    sample: Sample
    labeller: str = ""
    # Characters of the view the labeller was shown (`judges label` shows the judge's budget and records it);
    # None: the whole view. A judge whose budget shows a different text is refused for this label.
    evidence_chars: int | None = Field(default=None, ge=200)

    @property
    def artefact(self) -> str:
        """The judged sample itself (sim, answer, diff, transcript): all labels of one artefact share it."""
        return hashlib.sha256(json.dumps([self.sim, self.sample.model_dump()], sort_keys=True).encode()).hexdigest()

    @property
    def split(self) -> str:
        """train or held_out, by artefact: every criterion of one sample lands on the same side, so no held-out
        sample is ever seen in training (or shown as a demo)."""
        bucket = int(self.artefact[:8], 16) / 0xFFFFFFFF
        return "held_out" if bucket < HELD_OUT_SHARE else "train"


def with_criteria(rubric: Rubric, labels: list[Label]) -> Iterator[tuple[Label, Criterion]]:
    """Each label with its rubric criterion; labels of a criterion the rubric no longer has are left out."""
    criteria = {c.name: c for c in rubric.model.criteria}
    for label in labels:
        if label.criterion in criteria:
            yield label, criteria[label.criterion]


def load_labels(path: Path, rubric: Rubric) -> list[Label]:
    """Every label of one rubric; a wrong line names the file, the line and the field."""
    labels, problems, seen = [], [], set()
    criteria = {c.name for c in rubric.model.criteria}
    if not path.exists():
        return []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            label = Label.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), where, "", f"not valid JSON ({exc.msg})", "write one JSON object per line"))
            continue
        except ValidationError as exc:
            problems += validation_problems(exc, str(path), where, sorted(Label.model_fields))
            continue
        if label.criterion not in criteria:
            problems.append(Problem(str(path), where, "criterion", f"rubric {rubric.name} has no criterion "
                                    f"'{label.criterion}'", f"use one of: {', '.join(sorted(criteria))}"))
        if label.id in seen:
            problems.append(Problem(str(path), where, "id", f"duplicate id '{label.id}'", "give every label a unique id"))
        seen.add(label.id)
        labels.append(label)
    if problems:
        raise ConfigError(problems)
    return labels


def append_label(path: Path, label: Label) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(label.model_dump_json(exclude_defaults=False) + "\n")
