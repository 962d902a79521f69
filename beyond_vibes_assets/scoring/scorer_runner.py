"""Runs a pack's own Python scorer in the sandbox (a script, standard library only): the payload (nonce, scorer
file, function, reply, item) arrives on stdin, the scorer is imported from the pack's file and called as
`function(reply, item)`, and its result goes to the result channel, written once, after the nonce. The scorer is a
user's code, so it runs sandboxed like a reply: no network, no home, no host files.
"""

import importlib.util
import json
import os
import sys
import traceback


def _result(value):
    """The scorer's return value as {passed, score, reason}: a bool, a number in [0, 1] (passed = 1.0), or a dict."""
    if isinstance(value, bool):
        return {"passed": value, "score": 1.0 if value else 0.0, "reason": ""}
    if isinstance(value, (int, float)):
        score = float(value)
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"a score must be in [0, 1], got {score}")
        return {"passed": score == 1.0, "score": score, "reason": ""}
    if isinstance(value, dict) and isinstance(value.get("passed"), bool):
        score = float(value.get("score", 1.0 if value["passed"] else 0.0))
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"a score must be in [0, 1], got {score}")
        return {"passed": value["passed"], "score": score, "reason": str(value.get("reason", ""))[:500]}
    raise TypeError("return a bool, a score in [0, 1] or {'passed': bool, 'score': float, 'reason': str}, "
                    f"not {type(value).__name__}")


def main():
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdin.close()
    fd = int(os.environ["BV_RESULT_FD"])
    try:
        spec = importlib.util.spec_from_file_location("pack_scorer", os.path.join(os.getcwd(), payload["file"]))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = {"result": _result(getattr(module, payload["function"])(payload["reply"], payload["item"]))}
    except BaseException as exc:  # noqa: BLE001 - reported as the scorer's error, with where it happened
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(payload["file"])]
        where = f"{payload['file']}:{frames[-1].lineno}" if frames else payload["file"]
        out = {"error": f"{type(exc).__name__}: {exc}"[:500], "where": where}
    data = (payload["nonce"] + "\n" + json.dumps(out) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


if __name__ == "__main__":
    main()
