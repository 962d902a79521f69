"""Verifiers that execute the reply in the sandbox: `python_tests`, `patch_tests`, `shell_state`.

Which part of a reply is run: the first fenced block tagged for the language (```python / ```diff /
```bash), else the first fenced block of any tag, else the whole reply. Each result is stored
(scoring/sandboxed.py), so re-scoring runs nothing new. A timeout is the model's failure (its code never
ended); a sandbox that cannot start or has no free budget is the machine's (`sandbox_error`): both are failure
modes of their own (detail `execution_failure`), and a refused escape attempt fails the item with the reason.

Test verdicts come from scoring/test_runner.py over a result channel the reply cannot write by ordinary means
(see there); the tests reach the sandbox on stdin, never on its disk, and the workspace is read-only while they
run. `patch_tests` lets a reply change only the item's editable file (and new files where the item allows them).
"""

from __future__ import annotations

import ast
import json
import re
import secrets
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from . import sandboxed, test_runner
from .registry import Response, Verdict, code_version, side_by_side, uses, verifier

FENCE = re.compile(r"```([\w+-]*)[^\n]*\n(.*?)```", re.S)
RUNNER = Path(test_runner.__file__).read_text()


def extract_block(text: str, tags: tuple[str, ...]) -> tuple[str, str]:
    """(code, where it came from) per the rule in the module docstring."""
    blocks = FENCE.findall(text or "")
    for tag, body in blocks:
        if tag.lower() in tags:
            return body, f"```{tag} block"
    if blocks:
        return blocks[0][1], "first fenced block"
    return (text or "").strip(), "whole reply"


def _failure(kind: str, reason: str, **detail: Any) -> Verdict:
    return Verdict(False, 0.0, reason, {"execution_failure": kind, **detail})


def expected_tests(source: str) -> list[str]:
    """The test functions a hidden test file defines at its top level (what must pass, counted by the harness)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return sorted(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and n.name.startswith("test_"))


def _run_tests(files: dict[str, str], tests: str, spec: dict[str, Any], module: str | None = None) -> dict[str, Any]:
    """The hidden tests against `files` (the reply as `module`, or the item's patched file set)."""
    nonce = secrets.token_hex(16)
    payload = json.dumps({"nonce": nonce, "module": module, "tests": tests}).encode()
    run = sandboxed.run_files({**files, "_bv_runner.py": RUNNER}, f"{sys.executable} -I _bv_runner.py",
                              sandboxed.limits_for(spec), stdin=payload, result_channel=True, writable=False)
    out = sandboxed.as_dict(run)
    out.pop("channel", None)
    out["result"] = read_result(run.channel, nonce)
    out["expected"] = expected_tests(tests)
    out["output"] = run.output[-3000:]
    out["refusal"] = run.refusal()
    return out


def read_result(channel: str, nonce: str) -> dict[str, Any] | None:
    """The runner's one message on the result channel: the line after the nonce; None when there is not exactly
    one (no report, or several: a fork of the runner) or it does not parse."""
    lines = channel.split("\n")
    at = [i for i, line in enumerate(lines) if line == nonce]
    if len(at) != 1 or at[0] + 1 >= len(lines):
        return None
    try:
        result = json.loads(lines[at[0] + 1])
    except json.JSONDecodeError:
        return None
    return result if isinstance(result, dict) else None


def _verdict_from_tests(out: dict[str, Any], source: str) -> Verdict:
    if out.get("sandbox_error"):
        return _failure("sandbox_error", f"sandbox unavailable: {out['sandbox_error'][:300]}")
    if out.get("timed_out"):
        return _failure("execution_timeout", "the tests did not finish within the time limit",
                        output=out["output"][-1500:])
    result = out.get("result")
    reported = " ".join([str((result or {}).get("error") or "")] + [f[1] for f in (result or {}).get("failed") or []])
    refusal = out.get("refusal") or sandboxed.Execution(None, reported).refusal()
    refused = f"; sandbox refused: {refusal}" if refusal else ""
    if result is None:
        return Verdict(False, 0.0, "the code ended the test process before the tests reported" + refused,
                       {"code_from": source, "output": out["output"][-1500:], "exit_code": out.get("exit_code")})
    passed, failed = list(result.get("passed") or []), list(result.get("failed") or [])
    detail = {"code_from": source, "passed": passed, "failed": failed, "output": out["output"][-1500:],
              "duration_s": out.get("duration_s")}
    if result.get("tampered"):
        detail["tampered"] = result["tampered"]
        return Verdict(False, 0.0, f"the reply touched the test machinery: {', '.join(result['tampered'][:5])}", detail)
    if result.get("hooked"):
        detail["hooked"] = result["hooked"][:5]
    expected = out.get("expected") or []
    missing = sorted(set(expected) - set(passed) - {f[0] for f in failed})
    total = len(passed) + len(failed) + len(missing)
    if result.get("error") or total == 0:
        return Verdict(False, 0.0, f"tests could not run: {result.get('error') or 'no test functions'}{refused}", detail)
    if missing:
        detail["missing"] = missing
        return Verdict(False, len(passed) / total, f"tests did not run: {', '.join(missing)}", detail)
    ok = not failed
    reason = "" if ok else f"{len(failed)}/{total} tests failed: {failed[0][0]}: {failed[0][1][:150]}{refused}"
    return Verdict(ok, len(passed) / total, reason, detail)


def _cached(name: str, spec: dict[str, Any], used: dict[str, str], reply: str, run) -> dict[str, Any]:
    key = sandboxed.execution_key(name, code_version(name), spec, used, reply)
    return sandboxed.cached(key, run)


@verifier("python_tests")
def python_tests(response: Response, spec: dict[str, Any]) -> Verdict:
    """The reply's code as `solution.py` beside the item's hidden tests; score = share of tests passed."""
    code, source = extract_block(response.text, ("python", "py", "python3"))
    if not code.strip():
        return Verdict(False, 0.0, "no code in the reply", {"code_from": source})
    if spec.get("preamble"):
        code = f"{spec['preamble'].rstrip()}\n\n{code}"
    tests = sandboxed.read_tree(spec, spec["tests"])
    out = _cached("python_tests", spec, tests, code,
                  lambda: _run_tests({spec["module"] + ".py": code}, next(iter(tests.values())), spec, spec["module"]))
    return _verdict_from_tests(out, source)


NO_BUG = re.compile(r"\b(no bugs?|not a bug|there is no (bug|error|issue)|nothing (is )?(wrong|to fix|broken)|"
                    r"(code|function|it) is (already )?correct|already correct|no (changes?|fix(es)?) (is |are )?"
                    r"(needed|required|necessary))\b", re.I)


def _apply_reply(files: dict[str, str], reply: str, editable: str) -> tuple[dict[str, str | None] | None, str, str]:
    """(files after the reply, how it was applied, error). A unified diff is applied with `git apply` in the
    sandbox; a code block replaces the item's editable file."""
    diff, source = extract_block(reply, ("diff", "patch"))
    if re.search(r"^--- ", diff, re.M) and re.search(r"^\+\+\+ ", diff, re.M) and "@@" in diff:
        command = ("git apply --recount --whitespace=nowarn -p1 .tmp/reply.diff 2>/dev/null || "
                   "git apply --recount --whitespace=nowarn -p0 .tmp/reply.diff")
        run = sandboxed.run_files({**files, ".tmp/reply.diff": diff if diff.endswith("\n") else diff + "\n"}, command,
                                  sandboxed.limits_for({"timeout_s": 10}), collect=True)
        if run.sandbox_error:
            return None, "diff", f"sandbox unavailable: {run.sandbox_error}"
        if run.exit_code != 0:
            return None, "diff", f"the diff does not apply: {run.output.strip()[:300]}"
        return dict(run.files), f"unified diff ({source})", ""
    code, source = extract_block(reply, ("python", "py", "python3"))
    if FENCE.search(reply or ""):
        return {**files, editable: code}, f"replacement of {editable} ({source})", ""
    return dict(files), "no change", ""


def changes(before: dict[str, str], after: dict[str, str | None]) -> tuple[list[str], list[str], list[str]]:
    """Pure: (changed, added, removed) file names; a file over the read-back bound (None) counts as changed."""
    changed = sorted(k for k in set(before) & set(after)
                     if after[k] is None or after[k].strip() != before[k].strip())
    return changed, sorted(set(after) - set(before)), sorted(set(before) - set(after))


def outside_editable(changed: list[str], added: list[str], removed: list[str], editable: str,
                     allow_new: list[str]) -> list[str]:
    """Pure: what the reply touched that the item does not let it touch (only `editable` may change; new files
    only where `allow_new` globs say; nothing may be removed)."""
    return ([f for f in changed if f != editable] + [f for f in added if not any(fnmatch(f, g) for g in allow_new)]
            + [f"{f} (removed)" for f in removed])


@verifier("patch_tests")
def patch_tests(response: Response, spec: dict[str, Any]) -> Verdict:
    """A buggy file set and hidden tests; the reply (unified diff or full replacement file) is applied and the
    tests run. Only the editable file may change (a new module that shadows another, an edited fixture or test
    helper fails). Trap items have no bug: they pass only when the reply says so and changes nothing."""
    files = sandboxed.read_tree(spec, spec["files"])
    tests = sandboxed.read_tree(spec, spec["tests"])
    editable = spec.get("editable") or next(n for n in sorted(files) if n.endswith(".py") and not n.startswith("test"))
    allow_new = list(spec.get("allow_new") or [])

    def run() -> dict[str, Any]:
        after, how, error = _apply_reply(files, response.text, editable)
        if after is None:
            return {"apply_error": error, "how": how, "sandbox_error": error if error.startswith("sandbox") else None}
        changed, added, removed = changes(files, after)
        touched = outside_editable(changed, added, removed, editable, allow_new)
        if touched:
            return {"how": how, "changed": changed + added, "outside_editable": touched}
        out = _run_tests({k: v for k, v in after.items() if v is not None}, next(iter(tests.values())), spec)
        return {**out, "how": how, "changed": changed + added}

    out = _cached("patch_tests", spec, {**files, **tests}, response.text or "", run)
    if out.get("apply_error"):
        if out.get("sandbox_error"):
            return _failure("sandbox_error", out["apply_error"][:300])
        return Verdict(False, 0.0, out["apply_error"][:300], {"how": out["how"]})
    if out.get("outside_editable"):
        return Verdict(False, 0.0, f"the reply changed what the item does not let it change: "
                       f"{', '.join(out['outside_editable'][:5])} (only {editable} may change)",
                       {"how": out["how"], "changed": out["changed"], "outside_editable": out["outside_editable"],
                        "trap": bool(spec.get("trap"))})
    verdict = _verdict_from_tests(out, out["how"])
    if verdict.detail.get("execution_failure"):
        return verdict
    detail = {**verdict.detail, "changed": out["changed"], "trap": bool(spec.get("trap"))}
    if spec.get("trap"):
        says = NO_BUG.search(response.text or "")
        if out["changed"]:
            return Verdict(False, 0.0, f"trap: nothing is broken, but the reply changed {', '.join(out['changed'])}", detail)
        if not says:
            return Verdict(False, 0.0, "trap: nothing is broken, and the reply does not say so", detail)
        return Verdict(verdict.passed, verdict.score, verdict.reason, {**detail, "says_no_bug": says.group(0)})
    return Verdict(verdict.passed, verdict.score, verdict.reason, detail)


def _check_file(name: str, text: str | None, want: dict[str, Any], present: bool) -> str | None:
    if want.get("absent"):
        return None if not present else f"{name} should not exist"
    if not present:
        return f"{name} is missing"
    if text is None:
        return f"{name} is larger than the read-back bound"
    if "equals" in want and want["equals"] is not None and text.strip() != str(want["equals"]).strip():
        return f"{name} is {text.strip()[:80]!r}, expected {str(want['equals']).strip()[:80]!r}"
    for part in want.get("contains", []):
        if part not in text:
            return f"{name} lacks {part!r}"
    for part in want.get("excludes", []):
        if part in text:
            return f"{name} still contains {part!r}"
    if want.get("lines") is not None and len(text.strip().splitlines()) != want["lines"]:
        return f"{name} has {len(text.strip().splitlines())} lines, expected {want['lines']}"
    if want.get("regex") and not re.search(want["regex"], text, re.M):
        return f"{name} does not match {want['regex']!r}"
    return None


def output_problems(output: str, truncated: bool, expect: dict[str, Any]) -> list[str]:
    """Pure: what is wrong with a command's output. An answer checked by its output must be an answer: output cut
    at the bound fails every output check (100 MB of digits does not "contain 3")."""
    wants = expect.get("output_contains") or []
    equals = expect.get("output_equals")
    if not wants and equals is None:
        return []
    if truncated:
        return [f"output too long to be the answer ({len(output)}+ characters)"]
    problems = [f"output lacks {part!r}" for part in wants if part not in output]
    if equals is not None and output.strip() != str(equals).strip():
        problems.append(f"output is {output.strip()[:80]!r}, expected {str(equals).strip()[:80]!r}")
    return problems


@verifier("shell_state")
def shell_state(response: Response, spec: dict[str, Any]) -> Verdict:
    """The reply is a shell script run with bash in a workspace prepared from the item's setup folder; the
    files it leaves (regular files only, read back without following links) and its output are checked."""
    script, source = extract_block(response.text, ("bash", "sh", "shell", "console"))
    script = "\n".join(line[2:] if line.startswith("$ ") else line for line in script.splitlines())
    if not script.strip():
        return Verdict(False, 0.0, "no command in the reply", {"code_from": source})
    setup = sandboxed.read_tree(spec, spec["setup"]) if spec.get("setup") else {}

    def run() -> dict[str, Any]:
        done = sandboxed.run_files({**setup, ".tmp/reply.sh": script + "\n"}, "bash .tmp/reply.sh",
                                   sandboxed.limits_for(spec), collect=True)
        return {**sandboxed.as_dict(done), "refusal": done.refusal()}

    out = _cached("shell_state", spec, setup, script, run)
    if out.get("sandbox_error"):
        return _failure("sandbox_error", f"sandbox unavailable: {out['sandbox_error'][:300]}")
    if out.get("timed_out"):
        return _failure("execution_timeout", "the command did not finish within the time limit")
    expect = spec["expect"]
    files = out["files"]
    problems = [p for name, want in expect.get("files", {}).items()
                if (p := _check_file(name, files.get(name), want, name in files))]
    problems += output_problems(out["output"], bool(out.get("output_truncated")), expect)
    if expect.get("exit_code") is not None and out["exit_code"] != expect["exit_code"]:
        problems.append(f"exit code {out['exit_code']}, expected {expect['exit_code']}")
    if out.get("disk_exceeded"):
        problems.append("the command exceeded the sandbox's disk budget")
    checks = (len(expect.get("files", {})) + len(expect.get("output_contains") or [])
              + (expect.get("output_equals") is not None) + (expect.get("exit_code") is not None))
    refused = f"; sandbox refused: {out['refusal']}" if out.get("refusal") and problems else ""
    detail = {"code_from": source, "problems": problems, "output": out["output"][-1500:], "exit_code": out["exit_code"]}
    return Verdict(not problems, max(0.0, (checks - len(problems)) / checks) if checks else float(not problems),
                   ("; ".join(problems) + refused)[:500], detail)


# the sandbox runner, the test runner and the cache count toward these verifiers' code versions; each call is a
# sandboxed child process with its own budget lease, so a pack's calls run side by side
for _name in ("python_tests", "patch_tests", "shell_state"):
    uses(_name, sandboxed, test_runner, sys.modules[__name__])
    side_by_side(_name)
