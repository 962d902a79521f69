"""The gate's verdict in the forms CI reads: JSON, JUnit XML (one test case per compared partition, a failure per
regression) and a Markdown before/after table for a pull-request comment or $GITHUB_STEP_SUMMARY. Pure: rows in,
text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET


def _key(r: dict[str, Any]) -> tuple[str, str, str]:
    return r["kind"], r["variant"], r["task"]


def as_json(baseline_name: str, baseline: Sequence[dict], current: Sequence[dict], found: Sequence[dict]) -> str:
    blocking = [r for r in found if r.get("blocking", True)]
    return json.dumps({"baseline": baseline_name, "passed": not blocking, "compared": len(baseline),
                       "current": len(current), "regressions": [_clean(r) for r in blocking],
                       "not_comparable": [_clean(r) for r in found if not r.get("blocking", True)]}, indent=2)


def _clean(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("kind", "variant", "task", "rule", "was", "now", "detail")}


def as_junit(baseline_name: str, baseline: Sequence[dict], found: Sequence[dict]) -> str:
    """<testsuites><testsuite> with one <testcase> per baseline partition; a regression is a <failure>, a changed
    task is <skipped>."""
    by_key: dict[tuple[str, str, str], list[dict]] = {}
    for r in found:
        by_key.setdefault(_key(r), []).append(r)
    failures = sum(1 for b in baseline if any(r.get("blocking", True) for r in by_key.get(_key(b), [])))
    skipped = sum(1 for b in baseline if by_key.get(_key(b)) and not any(r.get("blocking", True)
                                                                        for r in by_key[_key(b)]))
    suites = ET.Element("testsuites", name="beyond-vibes gate", tests=str(len(baseline)), failures=str(failures),
                        errors="0", skipped=str(skipped))
    suite = ET.SubElement(suites, "testsuite", name=f"gate against {baseline_name}", tests=str(len(baseline)),
                          failures=str(failures), errors="0", skipped=str(skipped), time="0")
    for b in baseline:
        case = ET.SubElement(suite, "testcase", classname=f"{b['kind']}.{b['variant']}", name=b["task"], time="0")
        for r in by_key.get(_key(b), []):
            if r.get("blocking", True):
                ET.SubElement(case, "failure", message=f"{r['rule']}: {r['detail']}", type=r["rule"]).text = r["detail"]
            else:
                ET.SubElement(case, "skipped", message=r["detail"])
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def as_markdown(baseline_name: str, baseline: Sequence[dict], current: Sequence[dict], found: Sequence[dict]) -> str:
    now = {_key(r): r for r in current}
    flagged = {}
    for r in found:
        flagged.setdefault(_key(r), []).append(r)
    blocking = [r for r in found if r.get("blocking", True)]
    lines = [f"### Beyond Vibes gate against `{baseline_name}`: {'❌ ' + str(len(blocking)) + ' regression(s)' if blocking else '✅ passed'}",
             "", "| kind | variant | task | before | after | verdict |", "|---|---|---|---|---|---|"]
    for b in baseline:
        cur = now.get(_key(b))
        verdicts = [f"{r['rule']}: {r['detail']}" for r in flagged.get(_key(b), [])]
        lines.append(f"| {b['kind']} | `{b['variant']}` | {b['task']} | {_pct(b.get('rate'))} | "
                     f"{_pct(cur.get('rate')) if cur else '—'} | {'; '.join(verdicts) or 'ok'} |")
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
