"""Task validity the SWE-bench way: a sim counts only if its reference solution passes every criterion and
the untouched fixture fails at least one. Both are checked with real commands in the real sandbox."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..catalog.sims import Sim
from ..sandbox import Limits, Workspace
from ..scoring.criteria import CriterionResult, evaluate


def score_workspace(sim: Sim, ws: Workspace, answer: str) -> list[CriterionResult]:
    """Every criterion of the sim on a finished workspace (commands in the sim's sandbox)."""

    def run(command: str, timeout_s: float) -> tuple[int | None, str]:
        result = ws.run(command, Limits(timeout_s=timeout_s, cpu_s=int(timeout_s) + 5), sim.task.sandbox)
        return result.exit_code, result.output

    return [evaluate(c, ws.root, answer, run) for c in sim.task.criteria]


def apply_reference(sim: Sim, ws: Workspace) -> str:
    """Overlay the reference files, apply its patch, delete what it deletes; returns its final answer."""
    ref, folder = sim.task.reference, sim.folder
    if ref.overlay and (folder / ref.overlay).is_dir():
        shutil.copytree(folder / ref.overlay, ws.root, dirs_exist_ok=True)
    if ref.patch:
        ws.apply((folder / ref.patch).read_text())
    for rel in ref.delete:
        target = ws.resolve(rel)
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return (folder / ref.answer).read_text() if ref.answer else ""


@dataclass(frozen=True)
class Validity:
    sim: str
    reference: list[CriterionResult]
    untouched: list[CriterionResult]

    @property
    def valid(self) -> bool:
        return all(r.passed for r in self.reference) and not all(r.passed for r in self.untouched)

    def problems(self) -> list[str]:
        out = [f"reference fails {r.name}: {r.reason}" for r in self.reference if not r.passed]
        if all(r.passed for r in self.untouched):
            out.append("the untouched repository already passes every criterion: the task tests nothing")
        return out


def check_validity(sim: Sim, scratch: Path) -> Validity:
    gold = Workspace.create(sim.repo, Path(scratch) / f"{sim.name}-reference")
    answer = apply_reference(sim, gold)
    untouched = Workspace.create(sim.repo, Path(scratch) / f"{sim.name}-untouched")
    return Validity(sim.name, score_workspace(sim, gold, answer), score_workspace(sim, untouched, ""))
