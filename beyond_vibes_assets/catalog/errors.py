"""Config problems that name the file, the entry, the field and the fix, all at once.

Users fix config in one pass when every problem is listed together, so loaders collect problems
instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass


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
