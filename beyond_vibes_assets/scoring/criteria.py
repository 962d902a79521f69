"""Success criteria of a simulation task, evaluated on the final workspace and the final answer.

Each check is small and returns a CriterionResult with its reason. Text checks reuse the pack
verifiers; `cites_repo` and `grounded_in` parse the text with pure helpers (testable without a
workspace). Commands run in the same sandbox as the agent's shell.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from ..pools import cancelling_pool
from . import registry as V
from .tables import is_separator, pipe_rows

PATH_RE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.(?:py|toml|md|txt|json|ya?ml|cfg|ini|sh|js|ts|html|css|sql))\b")
FUNC_RE = re.compile(r"(?:\b([A-Za-z_][\w.]*)\.)?\b([A-Za-z_]\w*)\(")
PROPOSAL_RE = re.compile(r"(?i)\b(new|add|adds|adding|create|creates|creating|introduce|introduces)\b")
POSITIVE = {"yes", "y", "✓", "✔", "true", "supported", "built-in", "builtin", "native"}
NEGATIVE = {"no", "n", "x", "false", "unsupported", "not supported", "none"}


@dataclass(frozen=True)
class CriterionResult:
    name: str
    kind: str
    passed: bool
    reason: str = ""
    detail: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cited_paths(text: str) -> list[str]:
    """File paths a text names (e.g. app/server.py, pyproject.toml), in order, without repeats."""
    return list(dict.fromkeys(m.group(1) for m in PATH_RE.finditer(text)))


def cited_functions(text: str) -> list[tuple[str | None, str]]:
    """(qualifier, name) of every call-like `name(` or `module.name(` the text names, without repeats."""
    return list(dict.fromkeys((m.group(1), m.group(2)) for m in FUNC_RE.finditer(text)))


def defined_names(root: Path) -> set[str]:
    """Functions and classes defined in the repository's Python files."""
    names: set[str] = set()
    for file in root.rglob("*.py"):
        if ".git" in file.parts:
            continue
        try:
            names |= set(re.findall(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", file.read_text(), re.MULTILINE))
        except (OSError, UnicodeDecodeError):
            continue
    return names


def _proposed(text: str, token: str) -> bool:
    """The token is introduced as new in its sentence ("add a new `app/users.py`"), not claimed to exist."""
    joined = re.sub(r"\n(?!\s*(?:[-*+]|\d+[.)])\s)", " ", text)  # a sentence wrapped over lines is one sentence
    for sentence in re.split(r"(?<=[.!?])\s|\n", joined):
        at = sentence.find(token)
        if at >= 0 and PROPOSAL_RE.search(sentence[:at]):
            return True
    return False


def check_citations(text: str, files: set[str], names: set[str], repo_text: str = "",
                    min_citations: int = 1) -> tuple[bool, str, dict]:
    """Pure: what the text cites as existing code must exist.

    A path counts as real when it is a repository file (or the tail of one) or the repository itself names it
    (a data file like stock.json); a function when the repository defines it. Citations introduced as new
    ("add a new `users.py`") and calls qualified by something the repository does not define (`sqlite3.connect()`,
    stdlib and third-party APIs) are not claims about this repository. At least `min_citations` must be real.
    """
    modules = {Path(f).stem for f in files if f.endswith(".py")} | {Path(f).parent.name for f in files}
    real_paths = [p for p in cited_paths(text) if p in files or any(f.endswith("/" + p) for f in files) or p in repo_text]
    unknown_paths = [p for p in cited_paths(text) if p not in real_paths and not _proposed(text, p)]
    real_funcs, unknown_funcs = [], []
    for qualifier, name in cited_functions(text):
        external = qualifier is not None and qualifier.split(".")[0] not in names | modules
        if name in names:
            real_funcs.append(name)
        elif not external and not _proposed(text, name):
            unknown_funcs.append(name)
    detail = {"real_paths": real_paths, "real_functions": real_funcs, "unknown_paths": unknown_paths,
              "unknown_functions": unknown_funcs}
    real = len(real_paths) + len(set(real_funcs))
    if unknown_paths or unknown_funcs:
        return False, f"cites what the repository does not have: {unknown_paths + unknown_funcs}", detail
    if real < min_citations:
        return False, f"cites {real} existing repository paths/functions, wants at least {min_citations}", detail
    return True, "", detail


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def check_grounding(text: str, docs: dict[str, str]) -> tuple[bool, str, dict]:
    """Pure: the text's first comparison table has feature rows; each feature appears in the docs, and a
    positive cell under a column named like a doc (its file stem) needs the feature in that doc."""
    rows = [r for r in pipe_rows(text) if not is_separator(r)]
    if len(rows) < 2:
        return False, "no comparison table", {}
    header, body = rows[0], rows[1:]
    by_stem = {_norm(Path(name).stem): _norm(body) for name, body in docs.items()}
    everything = " ".join(by_stem.values())
    ungrounded, unsupported = [], []
    for row in body:
        feature = _norm(row[0]) if row else ""
        if not feature:
            continue
        if feature not in everything:
            ungrounded.append(row[0])
            continue
        for column, cell in zip(header[1:], row[1:]):
            doc = by_stem.get(_norm(column))
            if doc is not None and _norm(cell) in {_norm(p) for p in POSITIVE} and feature not in doc:
                unsupported.append(f"{row[0]} / {column}")
    detail = {"features": [r[0] for r in body if r], "ungrounded": ungrounded, "unsupported": unsupported}
    if ungrounded or unsupported:
        return False, f"claims not in the docs: {ungrounded + unsupported}", detail
    return True, "", detail


def _read(root: Path, rel: str) -> str | None:
    path = (root / rel).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")


# files a restored test run must not find planted by the agent (they configure or replace the test machinery)
MACHINERY = ("conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "sitecustomize.py", "usercustomize.py", "pytest.py",
             "_pytest", "pytest")


class Env(Protocol):
    """What command-like criteria need from the harness: the sandbox and the fixture (validity.py provides it)."""

    def run(self, command: str, timeout_s: float) -> tuple[int | None, str]: ...

    def run_with(self, changes: dict[str, str | None], command: str, timeout_s: float) -> tuple[int | None, str]: ...

    def fixture(self) -> dict[str, str]: ...

    def files(self) -> dict[str, str]: ...


def _under(rel: str, paths: list[str]) -> bool:
    return any(rel == p.rstrip("/") or rel.startswith(p.rstrip("/") + "/") for p in paths)


def unchanged_problems(fixture: dict[str, str], workspace: dict[str, str], paths: list[str]) -> list[str]:
    """Pure: files under `paths` that differ from the fixture (edited, added or removed)."""
    out = []
    for rel in sorted(set(fixture) | set(workspace)):
        if not _under(rel, paths):
            continue
        if rel not in workspace:
            out.append(f"{rel} (removed)")
        elif rel not in fixture:
            out.append(f"{rel} (added)")
        elif workspace[rel] != fixture[rel]:
            out.append(f"{rel} (edited)")
    return out


def restore_changes(fixture: dict[str, str], workspace: dict[str, str], paths: list[str]) -> dict[str, str | None]:
    """Pure: the edits that put `paths` back as the fixture has them and remove planted test machinery (a file or
    folder named in MACHINERY at any depth that the fixture does not have); None deletes."""
    changes: dict[str, str | None] = {rel: text for rel, text in fixture.items() if _under(rel, paths)}
    changes.update({rel: None for rel in workspace if _under(rel, paths) and rel not in fixture})
    for rel in workspace:
        parts = rel.split("/")
        if rel not in fixture and (parts[-1] in MACHINERY or any(x in MACHINERY for x in parts[:-1])
                                   or parts[-1].endswith(".pth")):
            changes[rel] = None
    return changes


def yes_no(cell: str) -> bool | None:
    """Pure: a table cell read as yes (True), no (False) or neither (None; an empty cell claims nothing)."""
    raw = cell.strip().strip("*_`").strip()
    if raw in ("✓", "✔"):
        return True
    if raw in ("✗", "✘", "—", "-"):
        return False
    word = _norm(raw)
    if not word:
        return None
    return True if word in {_norm(p) for p in POSITIVE if _norm(p)} else False if word in NEGATIVE else None


def check_table_truth(text: str, truth: dict[str, dict[str, bool]], min_rows: int) -> tuple[bool, str, dict]:
    """Pure: every table row naming a feature of `truth` agrees with it cell by cell (yes/no under each column the
    truth gives); at least `min_rows` such rows. A table that denies a tool what its docs say it has fails."""
    rows = [r for r in pipe_rows(text) if not is_separator(r)]
    if len(rows) < 2:
        return False, "no comparison table", {}
    header = [_norm(c) for c in rows[0]]
    wanted = {_norm(k): {_norm(c): v for c, v in cols.items()} for k, cols in truth.items()}
    matched, wrong = [], []
    for row in rows[1:]:
        feature = _norm(row[0]) if row else ""
        if feature not in wanted:
            continue
        matched.append(row[0])
        for column, expected in wanted[feature].items():
            if column not in header or header.index(column) >= len(row):
                wrong.append(f"{row[0]} / {column}: missing")
                continue
            said = yes_no(row[header.index(column)])
            if said is not expected:
                wrong.append(f"{row[0]} / {column}: {row[header.index(column)].strip() or 'empty'}, "
                             f"the docs say {'yes' if expected else 'no'}")
    detail = {"matched": matched, "contradicts_docs": wrong}
    if wrong:
        return False, f"the table contradicts the docs: {wrong[:4]}", detail
    if len(matched) < min_rows:
        return False, f"{len(matched)} row(s) on documented features, wants at least {min_rows}", detail
    return True, "", detail


def mutants(source: str, functions: list[str]) -> list[tuple[str, str, str]]:
    """Pure: (function, mutation, mutated module source) per function: every `return` of it gives None, and, when it
    raises, every `raise` of it is gone. Tests that pass on a mutant do not test that function."""
    import ast

    out = []
    for fn in functions:
        for kind in ("returns None", "raises nothing"):
            tree = ast.parse(source)
            target = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                           and n.name == fn), None)
            if target is None:
                out.append((fn, "missing", ""))
                break
            changed = False
            for node in ast.walk(target):
                if kind == "returns None" and isinstance(node, ast.Return):
                    node.value, changed = None, True
                if kind == "raises nothing":
                    for field_name in ("body", "orelse", "finalbody"):
                        block = getattr(node, field_name, None)
                        if isinstance(block, list) and any(isinstance(x, ast.Raise) for x in block):
                            setattr(node, field_name, [ast.Pass() if isinstance(x, ast.Raise) else x for x in block])
                            changed = True
            if changed:
                out.append((fn, kind, ast.unparse(ast.fix_missing_locations(tree))))
    return out


def evaluate(criterion: Any, root: Path, answer: str, env: Env | None = None) -> CriterionResult:
    """One criterion (a model from catalog/sims.py) on a finished workspace; `env` runs commands in the sandbox and
    knows the fixture (validity.py); without it, command-like criteria fail as "no sandbox"."""
    kind = criterion.type
    name = criterion.name or _default_name(criterion)
    if kind in ("command", "unchanged", "kills_mutants") and env is None:
        return CriterionResult(name, kind, False, "no sandbox to run the command in")
    if kind == "command":
        if criterion.restore:
            changes = restore_changes(env.fixture(), env.files(), criterion.restore)
            code, output = env.run_with(changes, criterion.run, criterion.timeout_s)
        else:
            code, output = env.run(criterion.run, criterion.timeout_s)
        return CriterionResult(name, kind, code == 0, "" if code == 0 else f"exit code {code}: {output[-400:]}",
                               {"exit_code": code, **({"restored": criterion.restore} if criterion.restore else {})})
    if kind == "unchanged":
        problems = unchanged_problems(env.fixture(), env.files(), criterion.paths)
        return CriterionResult(name, kind, not problems, f"changed: {problems[:6]}" if problems else "",
                               {"changed": problems} if problems else None)
    if kind == "kills_mutants":
        source = env.files().get(criterion.module)
        if source is None:
            return CriterionResult(name, kind, False, f"{criterion.module} is missing")
        survived, killed = [], []
        todo = list(mutants(source, criterion.functions))
        width = max(1, os.cpu_count() or 1)
        with cancelling_pool(width) as pool:  # each run is its own sandbox: one per core at a time
            for start in range(0, len(todo), width):  # in order, a core's worth at a time: the one-at-a-time verdict,
                batch = todo[start:start + width]     # and a stop waits for one batch at most
                codes = pool.map(lambda m: None if m[1] == "missing" else env.run_with(
                    {criterion.module: m[2]}, criterion.run, criterion.timeout_s)[0], batch)
                for (fn, how, _), code in zip(batch, list(codes)):
                    if how == "missing":
                        survived.append(f"{fn}: not in {criterion.module}")
                        continue
                    (killed if code != 0 else survived).append(f"{fn}: {how}")
                    if survived:  # one surviving mutant decides it: the rest need not run
                        break
                if survived:
                    break
        return CriterionResult(name, kind, not survived,
                               f"the tests pass on broken code: {survived}" if survived else "",
                               {"killed": killed, "survived": survived})
    if kind in ("file_exists", "file_absent"):
        exists = _read(root, criterion.path) is not None or (root / criterion.path).is_dir()
        want = kind == "file_exists"
        return CriterionResult(name, kind, exists == want, "" if exists == want else
                               f"{criterion.path} {'is missing' if want else 'still exists'}")
    text = answer if getattr(criterion, "path", None) is None else _read(root, criterion.path)
    if text is None:
        return CriterionResult(name, kind, False, f"{criterion.path} is missing")
    if kind == "file_matches":
        found = re.search(criterion.pattern, text, re.MULTILINE) is not None
        ok = found == criterion.must_match
        return CriterionResult(name, kind, ok, "" if ok else f"pattern {criterion.pattern!r} "
                               f"{'not found' if criterion.must_match else 'found'} in {criterion.path}")
    if kind in ("answer", "file_check"):
        verdict = V.verify(criterion.verifier, V.Response(text), criterion.check)
        return CriterionResult(name, kind, verdict.passed, verdict.reason, verdict.detail or None)
    if kind == "table_truth":
        ok, reason, detail = check_table_truth(text, criterion.truth, criterion.min_rows)
        return CriterionResult(name, kind, ok, reason, detail)
    if kind == "cites_repo":
        originals = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts]
        files = {str(p.relative_to(root)) for p in originals}
        source = criterion.path
        repo_text = "\n".join(p.read_text(errors="replace") for p in originals
                              if str(p.relative_to(root)) != source and p.suffix in (".py", ".md", ".toml", ".txt", ".cfg"))
        ok, reason, detail = check_citations(text, files, defined_names(root), repo_text, criterion.min_citations)
        return CriterionResult(name, kind, ok, reason, detail)
    if kind == "grounded_in":
        docs = {str(p.relative_to(root)): p.read_text(errors="replace")
                for pattern in criterion.docs for p in sorted(root.glob(pattern)) if p.is_file()}
        if not docs:
            return CriterionResult(name, kind, False, f"no docs match {criterion.docs}")
        ok, reason, detail = check_grounding(text, docs)
        return CriterionResult(name, kind, ok, reason, detail)
    return CriterionResult(name, kind, False, f"unknown criterion type {kind!r}")


def _default_name(criterion: Any) -> str:
    target = getattr(criterion, "path", None) or getattr(criterion, "run", None) or getattr(criterion, "verifier", "")
    return f"{criterion.type}: {target}" if target else criterion.type
