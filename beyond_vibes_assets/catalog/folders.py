"""Catalog folders (packs/, sims/): one subfolder per entry, each loaded on its own so a broken one stays alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import ConfigError

T = TypeVar("T")


def scan_folders(root: Path, marker: str, load: Callable[[Path], T]) -> tuple[dict[str, T], dict[str, ConfigError]]:
    """Every subfolder of root holding `marker`: the valid entries, and each broken entry's own problems."""
    found: dict[str, T] = {}
    broken: dict[str, ConfigError] = {}
    if not Path(root).is_dir():
        return found, broken
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir() and (p / marker).exists()):
        try:
            found[folder.name] = load(folder)
        except ConfigError as exc:
            broken[folder.name] = exc
    return found, broken
