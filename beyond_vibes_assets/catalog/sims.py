"""Simulation tasks as data: `sims/<name>/task.yaml` + `repo/` (the fixture) + a reference solution.

An agent works on a fresh copy of `repo/` with the tools the task offers, within its limits; success is
decided by the task's criteria (commands in the sandbox, file checks, checks on the final answer that
reuse the pack verifiers, repository citations, grounding in shipped docs). Like packs, problems are
reported with file, entry, field and fix, and a sim's fingerprint (task, fixture, reference and the
criteria code) is what makes only its own results stale.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..scoring.specs import SPECS
from .errors import ConfigError, Problem, validation_problems, yaml_problem
from .folders import scan_folders
from .models_config import NAME_RE
from .yaml_text import load_yaml

ARCHETYPES = ("planning", "maintenance", "feature", "research")
TOOLS = ("list_files", "read_file", "write_file", "edit_file", "search", "run", "finish")
ANSWER_VERIFIERS = ("mentions", "constraints", "markdown_table", "json_schema", "regex", "choice", "exact")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _relative(path: str) -> str:
    if not path or path.startswith("/") or ".." in Path(path).parts:
        raise ValueError("must be a path relative to the repository, without '..'")
    return path


class Limits(_Strict):
    max_steps: int = Field(default=30, ge=1, le=500)
    max_tokens: int = Field(default=768, ge=16, description="per model turn")
    time_budget_s: float = Field(default=600.0, gt=0)


class CommandCriterion(_Strict):
    """A command run in the sandbox, in the workspace, that must exit 0. `restore` runs it on a copy of the workspace
    whose given paths are put back as the fixture has them (the way SWE-bench restores test files: an agent cannot
    pass by weakening the tests), with any planted test-machinery file (conftest.py, pytest.ini, sitecustomize.py, a
    module named like pytest) the fixture lacks removed."""

    type: Literal["command"]
    run: str
    timeout_s: float = Field(default=120.0, gt=0)
    restore: list[str] = Field(default_factory=list)
    name: str | None = None
    _v = field_validator("restore")(lambda v: [_relative(p) for p in v])


class Unchanged(_Strict):
    """Files under these paths are exactly the fixture's (none edited, added or removed): "do not change the code",
    decided by the harness from the workspace, not by a command the workspace could configure."""

    type: Literal["unchanged"]
    paths: list[str] = Field(min_length=1)
    name: str | None = None
    _v = field_validator("paths")(lambda v: [_relative(p) for p in v])


class TableTruth(_Strict):
    """The answer's comparison table agrees with the truth the docs give, cell by cell: `truth` maps a feature to
    its yes/no per column; every row naming one of them must match it, and at least `min_rows` must. Kept in
    task.yaml, which the agent never sees."""

    type: Literal["table_truth"]
    truth: dict[str, dict[str, bool]] = Field(min_length=1)
    min_rows: int = Field(default=1, ge=1)
    path: str | None = None
    name: str | None = None


class KillsMutants(_Strict):
    """Tests the agent wrote count only if they fail on broken versions of the code they test: for each function,
    a mutant whose returns all give None and (if it raises) one whose raises are gone must both be caught by
    `run` (the tests, run against the mutant module in the sandbox)."""

    type: Literal["kills_mutants"]
    module: str
    functions: list[str] = Field(min_length=1)
    run: str
    timeout_s: float = Field(default=60.0, gt=0)
    name: str | None = None
    _v = field_validator("module")(_relative)


class FileExists(_Strict):
    type: Literal["file_exists", "file_absent"]
    path: str
    name: str | None = None
    _v = field_validator("path")(_relative)


class FileMatches(_Strict):
    """A regex (multiline) that must (or must not) match a file's text."""

    type: Literal["file_matches"]
    path: str
    pattern: str
    must_match: bool = True
    name: str | None = None
    _v = field_validator("path")(_relative)


class TextCheck(_Strict):
    """A pack verifier applied to the final answer (`source: answer`) or to a file the agent wrote."""

    type: Literal["answer", "file_check"]
    verifier: Literal[ANSWER_VERIFIERS]  # type: ignore[valid-type]
    check: dict[str, Any] = Field(default_factory=dict)
    path: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _spec(self) -> TextCheck:
        try:
            SPECS[self.verifier].model_validate(self.check)  # a wrong check is a load-time error
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            raise ValueError(f"check.{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if (self.type == "file_check") != (self.path is not None):
            raise ValueError("file_check needs 'path'; answer takes none")
        if self.path:
            _relative(self.path)
        return self


class CitesRepo(_Strict):
    """Every repository path and every `function()` the text names exists in the (final) repository."""

    type: Literal["cites_repo"]
    path: str | None = None  # a file the agent wrote; default: the final answer
    min_citations: int = Field(default=1, ge=0)
    name: str | None = None


class GroundedIn(_Strict):
    """Every feature row of the text's comparison table appears in the given docs; a positive cell for a
    tool whose column matches a doc file's name needs the feature in that tool's doc."""

    type: Literal["grounded_in"]
    docs: list[str] = Field(min_length=1)  # globs relative to the repository
    path: str | None = None  # default: the final answer
    name: str | None = None


Criterion = Annotated[CommandCriterion | FileExists | FileMatches | TextCheck | CitesRepo | GroundedIn | Unchanged
                      | TableTruth | KillsMutants, Field(discriminator="type")]


class Reference(_Strict):
    """The gold solution: files overlaid on the repo and/or a patch, paths deleted, and the final answer."""

    overlay: str | None = "reference/files"
    patch: str | None = None
    delete: list[str] = Field(default_factory=list)
    answer: str | None = None  # a file holding the reference final answer


class Adversarial(_Strict):
    """A cheap wrong attempt that must not be credited: a final answer and files it leaves (None deletes one)."""

    name: str
    answer: str = ""
    files: dict[str, str | None] = Field(default_factory=dict)
    _v = field_validator("files")(lambda v: {_relative(k): x for k, x in v.items()})


class SimTask(_Strict):
    version: str = "1"
    archetype: Literal[ARCHETYPES]  # type: ignore[valid-type]
    description: str
    prompt: str
    vars: dict[str, str] = Field(default_factory=dict)
    tools: list[Literal[TOOLS]] = Field(default_factory=lambda: list(TOOLS))  # type: ignore[valid-type]
    limits: Limits = Field(default_factory=Limits)
    allowed_paths: list[str] = Field(default_factory=list)
    false_premise: str | None = None  # what the prompt wrongly asserts (sycophancy metric)
    criteria: list[Criterion] = Field(min_length=1)
    reference: Reference = Field(default_factory=Reference)
    adversarial: list[Adversarial] = Field(default_factory=list)  # beside the generic ones `sims validate` tries
    sandbox: Literal["bubblewrap", "none"] = "bubblewrap"

    @model_validator(mode="after")
    def _template(self) -> SimTask:
        names = {f for _, f, _, _ in string.Formatter().parse(self.prompt) if f}
        missing = sorted(names - set(self.vars))
        if missing:
            raise ValueError(f"prompt uses {missing} but 'vars' gives no default for them")
        if "finish" not in self.tools:
            raise ValueError("tools must include 'finish' (how an agent ends an episode)")
        return self


@dataclass(frozen=True)
class Sim:
    name: str
    path: str
    task: SimTask
    fingerprint: str  # everything: a change re-scores (sim_definition's data version)
    input_fingerprint: str = ""  # what the agent sees (prompt, tools, limits, sandbox, fixture): a change re-runs
    repo_files: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return Path(self.path)

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    def prompt(self, overrides: dict[str, str] | None = None) -> str:
        """The task prompt with its variables filled in (defaults from task.yaml, `--var k=v` overrides)."""
        return self.task.prompt.format(**{**self.task.vars, **(overrides or {})})


def criteria_code_version() -> str:
    """Hash of the criteria and trace-metric code: a change to either makes every sim's results stale, and
    re-materializing re-scores the stored episodes with zero model calls."""
    from ..scoring import criteria, trace_metrics

    source = inspect.getsource(criteria) + inspect.getsource(trace_metrics)
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def _hash_files(folder: Path, digest: Any) -> Any:
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(file.relative_to(folder)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest


def _fingerprint(folder: Path) -> str:
    return _hash_files(folder, hashlib.sha256(criteria_code_version().encode())).hexdigest()[:16]


def _input_fingerprint(folder: Path, task: SimTask) -> str:
    """Only what shapes the episode itself; criteria, reference and scoring code are left out on purpose."""
    seen = task.model_dump(include={"prompt", "vars", "tools", "limits", "sandbox"}, mode="json")
    digest = hashlib.sha256(json.dumps(seen, sort_keys=True).encode())
    return _hash_files(folder / "repo", digest).hexdigest()[:16]


def load_sim(folder: Path) -> Sim:
    folder = Path(folder)
    task_file, repo = folder / "task.yaml", folder / "repo"
    file = str(task_file)
    problems: list[Problem] = []
    if not NAME_RE.match(folder.name):
        problems.append(Problem(str(folder), "folder name", "", "sim folder names become `sim` partition keys",
                                "rename the folder using letters, digits, '.', '_' or '-'"))
    if not repo.is_dir():
        problems.append(Problem(str(repo), "folder", "", "a sim needs its fixture repository in repo/",
                                "add the files the agent starts from under repo/"))
    task = None
    try:
        raw = load_yaml(task_file.read_text()) if task_file.exists() else None
        if raw is None:
            problems.append(Problem(file, "file", "", "task.yaml is missing or empty", "see sims/README.md"))
        else:
            task = SimTask.model_validate(raw)
    except yaml.YAMLError as exc:
        problems.append(yaml_problem(exc, file))
    except ValidationError as exc:
        problems += validation_problems(exc, file, "task", sorted(SimTask.model_fields))
    if task is not None:
        ref = task.reference
        for label, rel in (("reference.overlay", ref.overlay), ("reference.patch", ref.patch), ("reference.answer", ref.answer)):
            if rel and not (folder / rel).exists():
                problems.append(Problem(file, "task", label, f"{rel} does not exist", f"add {folder / rel} or fix the path"))
        for rel in ref.delete:
            if not (repo / rel).exists():
                problems.append(Problem(file, "task", "reference.delete", f"repo/{rel} does not exist", "list files of repo/"))
    if problems:
        raise ConfigError(problems)
    assert task is not None
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return Sim(folder.name, str(folder), task, _fingerprint(folder), _input_fingerprint(folder, task), files)


def scan_sims(root: Path) -> tuple[dict[str, Sim], dict[str, ConfigError]]:
    """Every sim folder under root: the valid sims, and each broken sim's own problems."""
    return scan_folders(root, "task.yaml", load_sim)
