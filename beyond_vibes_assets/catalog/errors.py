"""Config problems that name the file, the entry, the field and the fix, all at once.

Users fix config in one pass when every problem is listed together, so loaders collect problems
instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str  # e.g. "models[2] (name: smollm2)" or "line 14"
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}. Fix: {self.fix}"


class ConfigError(ValueError):
    """Raised with every problem found in one config file or pack folder."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _describe(err: dict[str, Any], field: str, allowed: Sequence[str]) -> tuple[str, str]:
    """(message, fix) for one pydantic error, never echoing the input (it may be a secret)."""
    etype = err["type"]
    if field.split(".")[0] == "api_key":
        return ("API keys never go in a config file",
                "export the key in an environment variable and write its name: api_key_env: OPENAI_API_KEY")
    if etype == "extra_forbidden":
        return f"unknown key '{field}'", f"remove it or use one of: {', '.join(allowed)}" if allowed else "remove it"
    if etype == "missing":
        return "required field is missing", f"add '{field}:' to this entry"
    if etype == "literal_error":
        return "value not allowed", err["msg"].replace("Input should be", "use")
    if etype == "too_short":
        return "must not be empty", f"list at least one value under '{field}'"
    return err["msg"], f"correct '{field}' (see the reference in README.md)"


def validation_problems(exc: ValidationError, file: str, entry: str, allowed: Sequence[str] = (),
                        prefix: str = "") -> list[Problem]:
    """Every pydantic error of one entry as a Problem: the one mapping models.yaml, packs and sims share."""
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        field = (prefix + ".".join(str(p) for p in err["loc"])).rstrip(".")
        message, fix = _describe(err, field, allowed if len(err["loc"]) == 1 else ())
        problems.append(Problem(file, entry, field, message, fix))
    return problems


def yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    """A YAML syntax error with its line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
    problem = getattr(exc, "problem", None) or str(exc)
    return Problem(file, where, "", f"YAML syntax error: {problem}", "fix the indentation or quoting at that line")
