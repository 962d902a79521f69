"""Judge rubrics as data (`judges/<rubric>.yaml`): criteria with a 1-5 scale of anchored descriptions, what the
judge sees, and the sim archetypes each rubric applies to. Validated like packs: file, field and fix.

A rubric's fingerprint (its file's bytes) is what will make only its own judge program and scores stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, Problem, validation_problems, yaml_problem
from .models_config import NAME_RE
from .yaml_text import load_yaml

ARCHETYPES = ("planning", "maintenance", "feature", "research")
Seen = Literal["task", "final_answer", "diff", "transcript"]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_RE.pattern)
    question: str = Field(min_length=10)
    sees: list[Seen] = Field(min_length=1, description="what the judge is shown")
    anchors: dict[int, str]

    @field_validator("anchors")
    @classmethod
    def _five_anchors(cls, anchors: dict[int, str]) -> dict[int, str]:
        if sorted(anchors) != [1, 2, 3, 4, 5]:
            raise ValueError(f"anchors must describe exactly the scores 1, 2, 3, 4 and 5 (got {sorted(anchors)})")
        return anchors


class RubricModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_RE.pattern)
    version: str = "1"
    description: str = ""
    # the sim archetypes a rubric under judges/ applies to (a pack item's rubric, named by its check, needs none)
    archetypes: list[Literal[ARCHETYPES]] = Field(default_factory=list)  # type: ignore[valid-type]
    criteria: list[Criterion] = Field(min_length=1)


@dataclass(frozen=True)
class Rubric:
    model: RubricModel
    path: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.model.name


def load_rubric(path: Path, *, for_sims: bool = True) -> Rubric:
    """A rubric file, validated; `for_sims`: one under judges/, which must say which sim archetypes it judges."""
    file = str(path)
    try:
        raw = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError([yaml_problem(exc, file)]) from None
    try:
        model = RubricModel.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, file, "rubric", sorted(RubricModel.model_fields))) from None
    problems = []
    if for_sims and not model.archetypes:
        problems.append(Problem(file, "rubric", "archetypes", "a rubric under judges/ must name the sim archetypes it "
                                "judges", f"add e.g. `archetypes: [{', '.join(ARCHETYPES)}]`"))
    if model.name != path.stem:
        problems.append(Problem(file, "rubric", "name", f"name '{model.name}' differs from the file name '{path.stem}'",
                                "make them equal"))
    names = [c.name for c in model.criteria]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(file, f"criteria (name: {dup})", "name", "duplicate criterion", "give each one a unique name"))
    if problems:
        raise ConfigError(problems)
    return Rubric(model, file, hashlib.sha256(path.read_bytes()).hexdigest()[:16])


def scan_rubrics(root: Path) -> tuple[dict[str, Rubric], dict[str, ConfigError]]:
    """Every `*.yaml` directly under root: the valid rubrics, and each broken rubric's own problems."""
    found: dict[str, Rubric] = {}
    broken: dict[str, ConfigError] = {}
    for path in sorted(Path(root).glob("*.yaml")) if Path(root).is_dir() else []:
        try:
            found[path.stem] = load_rubric(path)
        except ConfigError as exc:
            broken[path.stem] = exc
    return found, broken


def rubrics_for(rubrics: dict[str, Rubric], archetype: str) -> list[Rubric]:
    return [r for r in rubrics.values() if archetype in r.model.archetypes]
