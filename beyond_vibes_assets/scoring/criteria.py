"""Success criteria of a simulation task, evaluated on the final workspace and the final answer.

Each check is small and returns a CriterionResult with its reason. Text checks reuse the pack
verifiers; `cites_repo` and `grounded_in` parse the text with pure helpers (testable without a
workspace). Commands run in the same sandbox as the agent's shell.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import registry as V
from .tables import is_separator, pipe_rows

PATH_RE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.(?:py|toml|md|txt|json|ya?ml|cfg|ini|sh|js|ts|html|css|sql))\b")
FUNC_RE = re.compile(r"(?:\b([A-Za-z_][\w.]*)\.)?\b([A-Za-z_]\w*)\(")
PROPOSAL_RE = re.compile(r"(?i)\b(new|add|adds|adding|create|creates|creating|introduce|introduces)\b")
POSITIVE = {"yes", "y", "✓", "✔", "true", "supported", "built-in", "builtin", "native"}


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


def evaluate(criterion: Any, root: Path, answer: str, run_command=None) -> CriterionResult:
    """One criterion (a model from catalog/sims.py) on a finished workspace; `run_command(cmd, timeout_s)`
    returns (exit_code, output) from the sandbox."""
    kind = criterion.type
    name = criterion.name or _default_name(criterion)
    if kind == "command":
        if run_command is None:
            return CriterionResult(name, kind, False, "no sandbox to run the command in")
        code, output = run_command(criterion.run, criterion.timeout_s)
        return CriterionResult(name, kind, code == 0, "" if code == 0 else f"exit code {code}: {output[-400:]}",
                               {"exit_code": code})
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
