"""The gate's verdict for CI: JUnit XML valid against the JUnit schema, JSON that parses, a Markdown table."""

import json
from pathlib import Path

from lxml import etree

from beyond_vibes_assets.cli.gate_reports import as_json, as_junit, as_markdown

BASE = [{"kind": "pack", "variant": "m~Q4~cpu", "task": "math", "rate": 0.9},
        {"kind": "pack", "variant": "m~Q4~cpu", "task": "code <&>", "rate": 0.5},
        {"kind": "sim", "variant": "m~Q4~cpu", "task": "plan", "rate": 1.0}]
CURRENT = [{**BASE[0], "rate": 0.4}, {**BASE[1]}, {**BASE[2]}]
FOUND = [{"kind": "pack", "variant": "m~Q4~cpu", "task": "math", "rule": "rate", "was": 0.9, "now": 0.4,
          "detail": "pass rate down 50.0 points", "blocking": True},
         {"kind": "sim", "variant": "m~Q4~cpu", "task": "plan", "rule": "not comparable", "was": 1.0, "now": 1.0,
          "detail": "the task changed", "blocking": False}]
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "data" / "junit.xsd")))


def test_junit_xml_validates_and_has_a_case_per_partition_and_a_failure_per_regression():
    doc = etree.fromstring(as_junit("main", BASE, FOUND).encode())
    SCHEMA.assertValid(doc)
    cases = doc.findall(".//testcase")
    assert len(cases) == 3 and len(doc.findall(".//failure")) == 1 and len(doc.findall(".//skipped")) == 1
    assert doc.find("testsuite").get("failures") == "1" and cases[1].get("name") == "code <&>"


def test_json_parses_and_markdown_shows_before_and_after():
    verdict = json.loads(as_json("main", BASE, CURRENT, FOUND))
    assert verdict["passed"] is False and len(verdict["regressions"]) == 1 and len(verdict["not_comparable"]) == 1
    text = as_markdown("main", BASE, CURRENT, FOUND)
    assert "❌ 1 regression(s)" in text and "| 90.0% | 40.0% |" in text and "not comparable" in text
    assert json.loads(as_json("main", BASE, BASE, []))["passed"] is True
