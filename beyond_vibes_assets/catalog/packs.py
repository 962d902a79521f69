"""Behaviour packs: a folder with `pack.yaml` and `items.jsonl`, checked by a built-in verifier.

A user adds a pack with no Python: items in JSONL, a verifier picked by name, optional few-shot
examples and a system prompt. Problems are reported with file, line, field and fix, like models.yaml.
A pack's fingerprint (its files plus the code versions of the verifiers it uses) is what makes only
that pack's scores stale when one verifier changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..scoring import registry as V
from ..scoring.specs import PACK_FILE_FIELDS, SPECS
from .errors import ConfigError, Problem, validation_problems, yaml_problem
from .folders import scan_folders
from .models_config import NAME_RE
from .yaml_text import load_yaml


class FewShot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str
    assistant: str


class PackMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    version: str = "1"
    description: str = ""
    source: str = ""  # where the items come from (an imported benchmark: `beyond-vibes packs import`)
    system_prompt: str | None = None
    few_shot: list[FewShot] = Field(default_factory=list)
    verifier: str | None = None  # default for items that name none
    max_tokens: int = Field(default=256, ge=1)
    tools: list[dict[str, Any]] | None = None
    tool_mode: Literal["native", "prompted"] = "native"
    timeout_floor_s: float = Field(default=30.0, gt=0)
    stop: list[str] = Field(default_factory=list, max_length=8,
                            description="stop sequences for every item (lm-eval's `until`): generation ends there")


class ItemModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    prompt: str
    check: dict[str, Any]
    verifier: str | None = None
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    max_tokens: int | None = Field(default=None, ge=1)
    system: str | None = None
    json_mode: bool = False  # ask the server for a JSON object (response_format)
    tags: list[str] = Field(default_factory=list)
    stop: list[str] | None = Field(default=None, max_length=8, description="overrides the pack's stop sequences")


@dataclass(frozen=True)
class Item:
    id: str
    prompt: str
    verifier: str
    check: dict[str, Any]
    difficulty: str
    max_tokens: int
    system: str | None
    json_mode: bool
    line: int
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    path: str
    meta: PackMeta
    items: list[Item] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def verifiers(self) -> list[str]:
        return sorted({i.verifier for i in self.items})


def _pack_fingerprint(folder: Path, files: list[Path], verifier_names: list[str]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    for name in sorted(verifier_names):
        digest.update(f"{name}={V.code_version(name)}".encode())
    return digest.hexdigest()[:16]


def _check_item_spec(file: str, label: str, item: ItemModel, verifier: str) -> list[Problem]:
    """The item's `check` against the verifier's spec model: wrong types and unknown keys are load-time errors."""
    try:
        SPECS[verifier].model_validate(item.check)
    except ValidationError as exc:
        allowed = sorted(f.alias or name for name, f in SPECS[verifier].model_fields.items())
        return validation_problems(exc, file, label, allowed, prefix="check.")
    return []


def _judge_files_problems(folder: Path, check: dict[str, Any], used_by: str) -> list[Problem]:
    """An llm_judge item's rubric and labels, loaded as the run will load them: their own file, line and field."""
    from .rubrics import load_rubric

    rubric_file = folder / str(check.get("rubric"))
    if not rubric_file.is_file():
        return []  # reported as a missing file already
    try:
        rubric = load_rubric(rubric_file, for_sims=False)
    except ConfigError as exc:
        return exc.problems
    labels = check.get("labels")
    if isinstance(labels, str) and (folder / labels).is_file():
        from .labels import load_labels

        try:
            load_labels(folder / labels, rubric)
        except ConfigError as exc:
            return [Problem(p.file, p.entry, p.field, p.message, f"{p.fix} (labels of {used_by})") for p in exc.problems]
    return []


def load_pack(folder: Path) -> Pack:
    folder = Path(folder)
    meta_file, items_file = folder / "pack.yaml", folder / "items.jsonl"
    problems: list[Problem] = []
    name = folder.name
    if not NAME_RE.match(name):
        problems.append(Problem(str(folder), "folder name", "", "pack folder names become task partition keys",
                                "rename the folder using letters, digits, '.', '_' or '-'"))
    meta = PackMeta()
    if meta_file.exists():
        try:
            meta = PackMeta.model_validate(load_yaml(meta_file.read_text()) or {})
        except yaml.YAMLError as exc:
            problems.append(yaml_problem(exc, str(meta_file)))
        except ValidationError as exc:
            problems += validation_problems(exc, str(meta_file), "pack", sorted(PackMeta.model_fields))
    if meta.name and meta.name != name:
        problems.append(Problem(str(meta_file), "pack", "name", f"name '{meta.name}' differs from the folder '{name}'", "make them equal or drop 'name'"))
    if meta.verifier and meta.verifier not in V.VERIFIERS:
        problems.append(Problem(str(meta_file), "pack", "verifier", f"unknown verifier '{meta.verifier}'", f"use one of: {', '.join(sorted(V.VERIFIERS))}"))
    items: list[Item] = []
    if not items_file.exists():
        problems.append(Problem(str(items_file), "file", "", "a pack needs items.jsonl", "add one JSON object per line"))
    else:
        seen: set[str] = set()
        for lineno, line in enumerate(items_file.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            label, file = f"line {lineno}", str(items_file)
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(file, label, "", f"not valid JSON ({exc.msg} at column {exc.colno})", "write one JSON object per line"))
                continue
            try:
                model = ItemModel.model_validate(raw)
            except ValidationError as exc:
                problems += validation_problems(exc, file, label, sorted(ItemModel.model_fields))
                continue
            verifier = model.verifier or meta.verifier
            if verifier is None or verifier not in V.VERIFIERS:
                problems.append(Problem(file, label, "verifier", f"unknown or missing verifier {verifier!r}",
                                        f"set 'verifier' on the item or in pack.yaml; one of: {', '.join(sorted(V.VERIFIERS))}"))
                continue
            if model.id in seen:
                problems.append(Problem(file, label, "id", f"duplicate id '{model.id}'", "give every item a unique id"))
            seen.add(model.id)
            problems += _check_item_spec(file, label, model, verifier)
            check = model.check
            if verifier in PACK_FILE_FIELDS:
                for key in PACK_FILE_FIELDS[verifier]:
                    rel = check.get(key)
                    if isinstance(rel, str) and not (folder / rel).exists():
                        problems.append(Problem(file, label, f"check.{key}", f"{rel!r} does not exist in {folder}",
                                                "add the file or folder to the pack, or fix the path"))
                check = {**check, "pack_dir": str(folder.resolve())}  # executing verifiers read their files here
            if verifier == "python" and isinstance(check.get("file"), str) and (folder / check["file"]).is_file():
                from ..scoring.pack_scorers import scorer_problem

                found = scorer_problem(folder / check["file"], str(check.get("function", "score")))
                if found:
                    line, message = found
                    problems.append(Problem(str(folder / check["file"]), f"line {line}" if line else "file", "",
                                            message, f"fix the scorer (used by {file}, {label})"))
            if verifier == "llm_judge":
                problems += _judge_files_problems(folder, check, f"{file}, {label}")
            items.append(Item(model.id, model.prompt, verifier, check, model.difficulty,
                              model.max_tokens or meta.max_tokens, model.system, model.json_mode, lineno,
                              tuple(model.stop if model.stop is not None else meta.stop)))
        if not items and not problems:
            problems.append(Problem(file, "file", "", "no items", "add at least one item line"))
    if problems:
        raise ConfigError(problems)
    # every file of the pack counts (hidden tests, fixtures, references): editing one re-scores the pack
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return Pack(name, meta.version, str(folder), meta, items,
                _pack_fingerprint(folder, files, sorted({i.verifier for i in items})))


def scan_packs(root: Path) -> tuple[dict[str, Pack], dict[str, ConfigError]]:
    """Every pack folder under root: the valid packs, and each broken pack's own problems."""
    return scan_folders(root, "items.jsonl", load_pack)


def discover_packs(root: Path) -> dict[str, Pack]:
    """Every pack folder under root; all problems from all packs are raised together."""
    packs, broken = scan_packs(root)
    if broken:
        raise ConfigError([p for exc in broken.values() for p in exc.problems])
    return packs
