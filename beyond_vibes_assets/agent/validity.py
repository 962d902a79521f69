"""Task validity the SWE-bench way: a sim counts only if its reference solution passes every criterion and
the untouched fixture fails at least one. Both are checked with real commands in the real sandbox."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.sims import Sim
from ..pools import cancelling_pool
from ..sandbox import Limits, Workspace, safefs
from ..scoring.criteria import CriterionResult, evaluate


class SandboxEnv:
    """The criteria's view of a finished workspace: commands in the sim's sandbox, the fixture's and the workspace's
    regular files (read without following links), and commands on a scratch copy with some files changed (restored
    tests, a mutant module), so one criterion never alters what the next one sees."""

    def __init__(self, sim: Sim, ws: Workspace):
        self.sim, self.ws = sim, ws
        self._fixture: dict[str, str] | None = None

    def run(self, command: str, timeout_s: float) -> tuple[int | None, str]:
        result = self.ws.run(command, Limits(timeout_s=timeout_s, cpu_s=int(timeout_s) + 5), self.sim.task.sandbox)
        return result.exit_code, result.output

    def fixture(self) -> dict[str, str]:
        if self._fixture is None:
            self._fixture = _texts(safefs.read_tree(self.sim.repo, skip_top=frozenset(), max_file_bytes=8 << 20,
                                                    max_total_bytes=64 << 20))
        return self._fixture

    def files(self) -> dict[str, str]:
        return _texts(safefs.read_tree(self.ws.root, max_file_bytes=8 << 20, max_total_bytes=64 << 20))

    def run_with(self, changes: dict[str, str | None], command: str, timeout_s: float) -> tuple[int | None, str]:
        files = {**self.files(), **{k: v for k, v in changes.items() if v is not None}}
        for rel, text in changes.items():
            if text is None:
                files.pop(rel, None)
        with tempfile.TemporaryDirectory(prefix="bv-criterion-") as scratch:
            root = Path(scratch) / "ws"
            root.mkdir()
            for rel, text in files.items():
                safefs.write_bytes(root, rel, text.encode("utf-8"))
            (root / ".tmp").mkdir(exist_ok=True)
            result = Workspace(root).run(command, Limits(timeout_s=timeout_s, cpu_s=int(timeout_s) + 5),
                                         self.sim.task.sandbox)
        return result.exit_code, result.output


def _texts(tree: dict[str, bytes | None]) -> dict[str, str]:
    return {rel: data.decode("utf-8", "replace") for rel, data in tree.items() if data is not None}


def score_workspace(sim: Sim, ws: Workspace, answer: str) -> list[CriterionResult]:
    """Every criterion of the sim on a finished workspace (commands in the sim's sandbox)."""
    env = SandboxEnv(sim, ws)
    return [evaluate(c, ws.root, answer, env) for c in sim.task.criteria]


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


GENERIC_ADVERSARIAL = (
    ("the task prompt echoed back", None),
    ("claims it is done without doing anything", "Done. I made the requested changes and all the tests pass now."),
)


def adversarial_attempts(sim: Sim) -> list[tuple[str, str, dict[str, str | None]]]:
    """(name, final answer, files) of every cheap wrong attempt a sim must not credit: the generic ones (the prompt
    echoed, "I did it" with no change) and the sim's own (a confident wrong answer or pick, weakened tests, ...)."""
    def content(value: str | None) -> str | None:  # "@reference/files/PLAN.md": a file of the sim's folder
        return (sim.folder / value[1:]).read_text() if value and value.startswith("@") else value

    out = [(name, answer if answer is not None else sim.prompt(), {}) for name, answer in GENERIC_ADVERSARIAL]
    return out + [(a.name, content(a.answer) or "", {k: content(v) for k, v in a.files.items()})
                  for a in sim.task.adversarial]


@dataclass(frozen=True)
class Validity:
    sim: str
    reference: list[CriterionResult]
    untouched: list[CriterionResult]
    adversarial: dict[str, list[CriterionResult]] = field(default_factory=dict)
    played: dict[str, list[CriterionResult]] = field(default_factory=dict)  # tool mode -> the reference agent's

    @property
    def valid(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        out = [f"reference fails {r.name}: {r.reason}" for r in self.reference if not r.passed]
        if all(r.passed for r in self.untouched):
            out.append("the untouched repository already passes every criterion: the task tests nothing")
        out += [f"a cheap wrong attempt is credited: {name}" for name, results in self.adversarial.items()
                if results and all(r.passed for r in results)]
        for mode, results in self.played.items():
            out += [f"the reference played by an agent ({mode} tool calls) fails {r.name}: {r.reason}"
                    for r in results if not r.passed]
        return out


def check_validity(sim: Sim, scratch: Path, *, play: tuple[str, ...] = ("prompted", "native")) -> Validity:
    """Reference passes, untouched fails, every cheap wrong attempt fails, and the reference played through the real
    loop and sandbox (each tool mode in `play`) passes. Each attempt has its own workspace and sandbox, so they run
    side by side, one per core."""
    import asyncio

    from .episodes import score
    from .reference_agent import play_reference

    scratch = Path(scratch)

    def reference() -> list[CriterionResult]:
        gold = Workspace.create(sim.repo, scratch / f"{sim.name}-reference")
        return score_workspace(sim, gold, apply_reference(sim, gold))

    def untouched() -> list[CriterionResult]:
        return score_workspace(sim, Workspace.create(sim.repo, scratch / f"{sim.name}-untouched"), "")

    def attempt(i: int, text: str, files: dict[str, str | None]) -> list[CriterionResult]:
        ws = Workspace.create(sim.repo, scratch / f"{sim.name}-adversarial-{i}")
        for rel, content in files.items():
            target = ws.resolve(rel)
            if content is None:
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            else:
                safefs.write_bytes(ws.root, rel, content.encode("utf-8"))
        try:
            return score_workspace(sim, ws, text)
        finally:
            ws.remove()

    def played(mode: str) -> list[CriterionResult]:
        record = asyncio.run(play_reference(sim, mode, scratch / f"{sim.name}-played-{mode}"))
        return score(sim, record, scratch)

    with cancelling_pool() as pool:  # interrupted: attempts not started are dropped
        gold, bare = pool.submit(reference), pool.submit(untouched)
        tricks = {name: pool.submit(attempt, i, text, files)
                  for i, (name, text, files) in enumerate(adversarial_attempts(sim))}
        plays = {mode: pool.submit(played, mode) for mode in play}
        return Validity(sim.name, gold.result(), bare.result(), {n: f.result() for n, f in tricks.items()},
                        {m: f.result() for m, f in plays.items()})
