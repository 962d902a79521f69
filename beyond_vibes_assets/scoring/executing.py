"""Verifiers that execute the reply in the sandbox: `python_tests`, `patch_tests`, `shell_state`.

Which part of a reply is run: the first fenced block tagged for the language (```python / ```diff /
```bash), else the first fenced block of any tag, else the whole reply. Each result is stored
(scoring/execution.py), so re-scoring runs nothing new. A timeout or a sandbox that cannot start is a failure
mode of its own (detail `execution_failure`), never a wrong answer; a refused escape attempt fails the item
and the reason says what the sandbox refused.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from typing import Any

from . import execution
from .verifiers import _USES, Response, Verdict, code_version, verifier

FENCE = re.compile(r"```([\w+-]*)[^\n]*\n(.*?)```", re.S)
RESULT = "BV-RESULT"

# Runs every `test_*` function of the hidden test file; the nonce (read from a file and deleted before the
# reply's code is imported) keeps the reply from printing a fake result line.
RUNNER = '''import importlib.util, json, os, sys
nonce = open(".bv_nonce").read().strip(); os.remove(".bv_nonce")
sys.path.insert(0, os.getcwd())
res = {"passed": [], "failed": [], "error": None}
try:
    spec = importlib.util.spec_from_file_location("hidden_tests", "test_hidden.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    names = sorted(n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n)))
except BaseException as exc:
    names, res["error"] = [], f"{type(exc).__name__}: {exc}"
for name in names:
    try:
        getattr(mod, name)(); res["passed"].append(name)
    except BaseException as exc:
        res["failed"].append([name, f"{type(exc).__name__}: {str(exc)[:300]}"])
sys.stdout.flush()
print("\\n%s %s %s" % ("BV-RESULT", nonce, json.dumps(res)), flush=True)
'''


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


def _run_tests(files: dict[str, str], tests: str, spec: dict[str, Any]) -> dict[str, Any]:
    nonce = secrets.token_hex(8)
    files = {**files, "test_hidden.py": tests, "_bv_runner.py": RUNNER, ".bv_nonce": nonce}
    run = execution.run_files(files, f"{sys.executable} -I _bv_runner.py", execution.limits_for(spec))
    out = execution.as_dict(run)
    found = re.search(rf"{RESULT} {nonce} (\{{.*\}})", run.output)
    out["result"] = json.loads(found.group(1)) if found else None
    out["output"] = re.sub(rf"{RESULT} {nonce} .*", "", run.output)[-3000:]
    out["refusal"] = run.refusal()
    return out


def _verdict_from_tests(out: dict[str, Any], source: str) -> Verdict:
    if out.get("sandbox_error"):
        return _failure("sandbox_error", f"sandbox unavailable: {out['sandbox_error'][:300]}")
    if out.get("timed_out"):
        return _failure("execution_timeout", "the tests did not finish within the time limit",
                        output=out["output"][-1500:])
    result = out.get("result")
    refused = f"; sandbox refused: {out['refusal']}" if out.get("refusal") else ""
    if result is None:
        return Verdict(False, 0.0, "the code ended the test process before the tests reported" + refused,
                       {"code_from": source, "output": out["output"][-1500:], "exit_code": out.get("exit_code")})
    passed, failed = result["passed"], result["failed"]
    total = len(passed) + len(failed)
    detail = {"code_from": source, "passed": passed, "failed": failed, "output": out["output"][-1500:],
              "duration_s": out.get("duration_s")}
    if result.get("error") or total == 0:
        return Verdict(False, 0.0, f"tests could not run: {result.get('error') or 'no test functions'}{refused}", detail)
    ok = not failed
    reason = "" if ok else f"{len(failed)}/{total} tests failed: {failed[0][0]}: {failed[0][1][:150]}{refused}"
    return Verdict(ok, len(passed) / total, reason, detail)


def _cached(name: str, spec: dict[str, Any], used: dict[str, str], reply: str, run) -> dict[str, Any]:
    key = execution.execution_key(name, code_version(name), spec, used, reply)
    return execution.cached(key, run)


@verifier("python_tests")
def python_tests(response: Response, spec: dict[str, Any]) -> Verdict:
    """The reply's code as `solution.py` beside the item's hidden tests; score = share of tests passed."""
    code, source = extract_block(response.text, ("python", "py", "python3"))
    if not code.strip():
        return Verdict(False, 0.0, "no code in the reply", {"code_from": source})
    tests = execution.read_tree(spec, spec["tests"])
    out = _cached("python_tests", spec, tests, code,
                  lambda: _run_tests({spec.get("module", "solution") + ".py": code}, next(iter(tests.values())), spec))
    return _verdict_from_tests(out, source)


NO_BUG = re.compile(r"\b(no bugs?|not a bug|there is no (bug|error|issue)|nothing (is )?(wrong|to fix|broken)|"
                    r"(code|function|it) is (already )?correct|already correct|no (changes?|fix(es)?) (is |are )?"
                    r"(needed|required|necessary))\b", re.I)


def _apply_reply(files: dict[str, str], reply: str, editable: str) -> tuple[dict[str, str] | None, str, str]:
    """(files after the reply, how it was applied, error). A unified diff is applied with `git apply`;
    a code block replaces the item's editable file."""
    diff, source = extract_block(reply, ("diff", "patch"))
    if re.search(r"^--- ", diff, re.M) and re.search(r"^\+\+\+ ", diff, re.M) and "@@" in diff:
        command = ("git apply --recount --whitespace=nowarn -p1 .tmp/reply.diff 2>/dev/null || "
                   "git apply --recount --whitespace=nowarn -p0 .tmp/reply.diff")
        run = execution.run_files({**files, ".tmp/reply.diff": diff if diff.endswith("\n") else diff + "\n"}, command,
                                  execution.limits_for({"timeout_s": 10}), collect=True)
        if run.sandbox_error:
            return None, "diff", f"sandbox unavailable: {run.sandbox_error}"
        if run.exit_code != 0:
            return None, "diff", f"the diff does not apply: {run.output.strip()[:300]}"
        return {k: v for k, v in run.files.items() if not k.startswith(".tmp")}, f"unified diff ({source})", ""
    code, source = extract_block(reply, ("python", "py", "python3"))
    if FENCE.search(reply or ""):
        return {**files, editable: code}, f"replacement of {editable} ({source})", ""
    return dict(files), "no change", ""


@verifier("patch_tests")
def patch_tests(response: Response, spec: dict[str, Any]) -> Verdict:
    """A buggy file set and hidden tests; the reply (unified diff or full replacement file) is applied and the
    tests run. Trap items have no bug: they pass only when the reply says so and changes nothing."""
    files = execution.read_tree(spec, spec["files"])
    tests = execution.read_tree(spec, spec["tests"])
    editable = spec.get("editable") or next(n for n in sorted(files) if n.endswith(".py") and not n.startswith("test"))

    def run() -> dict[str, Any]:
        after, how, error = _apply_reply(files, response.text, editable)
        if after is None:
            return {"apply_error": error, "how": how, "sandbox_error": error if error.startswith("sandbox") else None}
        changed = sorted(k for k in set(after) | set(files) if after.get(k, "").strip() != files.get(k, "").strip())
        out = _run_tests(after, next(iter(tests.values())), spec)
        return {**out, "how": how, "changed": changed}

    out = _cached("patch_tests", spec, {**files, **tests}, response.text or "", run)
    if out.get("apply_error"):
        if out.get("sandbox_error"):
            return _failure("sandbox_error", out["apply_error"][:300])
        return Verdict(False, 0.0, out["apply_error"][:300], {"how": out["how"]})
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


def _check_file(name: str, text: str | None, want: dict[str, Any]) -> str | None:
    if want.get("absent"):
        return None if text is None else f"{name} should not exist"
    if text is None:
        return f"{name} is missing"
    if "equals" in want and text.strip() != str(want["equals"]).strip():
        return f"{name} is {text.strip()[:80]!r}, expected {str(want['equals']).strip()[:80]!r}"
    for part in want.get("contains", []):
        if part not in text:
            return f"{name} lacks {part!r}"
    for part in want.get("excludes", []):
        if part in text:
            return f"{name} still contains {part!r}"
    if "lines" in want and len(text.strip().splitlines()) != want["lines"]:
        return f"{name} has {len(text.strip().splitlines())} lines, expected {want['lines']}"
    if "regex" in want and not re.search(want["regex"], text, re.M):
        return f"{name} does not match {want['regex']!r}"
    return None


@verifier("shell_state")
def shell_state(response: Response, spec: dict[str, Any]) -> Verdict:
    """The reply is a shell script run with bash in a workspace prepared from the item's setup folder; the
    files it leaves (and its output) are checked against the item's expectations."""
    script, source = extract_block(response.text, ("bash", "sh", "shell", "console"))
    script = "\n".join(line[2:] if line.startswith("$ ") else line for line in script.splitlines())
    if not script.strip():
        return Verdict(False, 0.0, "no command in the reply", {"code_from": source})
    setup = execution.read_tree(spec, spec["setup"]) if spec.get("setup") else {}

    def run() -> dict[str, Any]:
        done = execution.run_files({**setup, ".tmp/reply.sh": script + "\n"}, "bash .tmp/reply.sh",
                                   execution.limits_for(spec), collect=True)
        return {**execution.as_dict(done), "refusal": done.refusal()}

    out = _cached("shell_state", spec, setup, script, run)
    if out.get("sandbox_error"):
        return _failure("sandbox_error", f"sandbox unavailable: {out['sandbox_error'][:300]}")
    if out.get("timed_out"):
        return _failure("execution_timeout", "the command did not finish within the time limit")
    expect = spec.get("expect", {})
    problems = [p for name, want in expect.get("files", {}).items()
                if (p := _check_file(name, out["files"].get(name), want))]
    for part in expect.get("output_contains", []):
        if part not in out["output"]:
            problems.append(f"output lacks {part!r}")
    if "exit_code" in expect and out["exit_code"] != expect["exit_code"]:
        problems.append(f"exit code {out['exit_code']}, expected {expect['exit_code']}")
    checks = len(expect.get("files", {})) + len(expect.get("output_contains", [])) + ("exit_code" in expect)
    refused = f"; sandbox refused: {out['refusal']}" if out.get("refusal") and problems else ""
    detail = {"code_from": source, "problems": problems, "output": out["output"][-1500:], "exit_code": out["exit_code"]}
    return Verdict(not problems, (checks - len(problems)) / checks if checks else float(not problems),
                   ("; ".join(problems) + refused)[:500], detail)


# the sandbox runner and the cache count toward these verifiers' code versions
for _name in ("python_tests", "patch_tests", "shell_state"):
    _USES[_name] = (execution, sys.modules[__name__])
