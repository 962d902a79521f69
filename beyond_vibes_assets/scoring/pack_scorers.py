"""`verifier: python`: a pack's own scorer, a Python function in a file of the pack folder
(`check: {file: verify.py, function: score, args: {...}}`), called as `score(reply, item)` with the reply's text and
`item = {"args": <the check's args>}` (an expected answer, a threshold: whatever the scorer needs). It runs in the sandbox (a user's scorer is code too: no network, no home), its
file is part of the pack's fingerprint (editing it re-scores stored replies with zero model calls) and of the
execution cache key, and an error in it is a `verifier_error` (the harness's, not the model's: excluded, retried).
"""

from __future__ import annotations

import ast
import json
import secrets
import sys
from pathlib import Path
from typing import Any

from . import sandboxed, scorer_runner
from .execution_verifiers import read_result
from .registry import Response, Verdict, code_version, side_by_side, uses, verifier

RUNNER = Path(scorer_runner.__file__).read_text()


def scorer_problem(path: Path, function: str) -> tuple[int | None, str] | None:
    """(line, message) when the scorer file cannot serve (a syntax error, the function missing), else None: what
    `validate` reports with the file and line, without running the file."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as exc:
        return exc.lineno, f"syntax error: {exc.msg}"
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if function not in names:
        return None, f"no top-level function {function!r} (it defines: {', '.join(sorted(names)) or 'none'})"
    return None


@verifier("python")
def python_scorer(response: Response, spec: dict[str, Any]) -> Verdict:
    """The pack's scorer on the reply, in the sandbox; its verdict, or a verifier_error naming file and line."""
    scorer = sandboxed.read_tree(spec, spec["file"])
    nonce = secrets.token_hex(16)
    item = {"args": spec.get("args", {})}
    payload = json.dumps({"nonce": nonce, "file": spec["file"], "function": spec["function"],
                          "reply": response.text, "item": item}).encode()

    def run() -> dict[str, Any]:
        files = {spec["file"]: next(iter(scorer.values())), "_bv_scorer_runner.py": RUNNER}
        done = sandboxed.run_files(files, f"{sys.executable} -I _bv_scorer_runner.py", sandboxed.limits_for(spec),
                                   stdin=payload, result_channel=True, writable=False)
        return {**{k: v for k, v in sandboxed.as_dict(done).items() if k != "channel"},
                "message": read_result(done.channel, nonce), "output": done.output[-1500:]}

    out = sandboxed.cached(sandboxed.execution_key("python", code_version("python"), spec, scorer,
                                                   json.dumps([response.text, item])), run)
    if out.get("sandbox_error"):
        return Verdict(False, 0.0, f"sandbox unavailable: {out['sandbox_error'][:300]}",
                       {"execution_failure": "sandbox_error"})
    if out.get("timed_out"):
        return Verdict(False, 0.0, f"the scorer {spec['file']} did not finish within the time limit",
                       {"verifier_error": True})
    message = out.get("message") or {}
    if "result" not in message:
        where = message.get("where", spec["file"])
        return Verdict(False, 0.0, f"verifier error in {where}: {message.get('error') or 'no result'}",
                       {"verifier_error": True, "output": out.get("output", "")})
    result = message["result"]
    return Verdict(bool(result["passed"]), float(result["score"]), result["reason"], {"scorer": spec["file"]})


uses("python", scorer_runner, sandboxed)
side_by_side("python")  # a sandboxed child process per call, like the execution verifiers
