"""History, the sigma rule, baselines and the gate, and the report in a real browser, in seconds: pack_results in
memory against a scripted endpoint (tests/scripted.py; no model runs here, so none is needed to test counting).

What issue 21 (finding 6) asked of history: a point is a new measurement (new answers), not the same answers
scored again; a changed task (another fingerprint) starts a new series, so the gate says "not comparable"
instead of "regression"; the gate's drop rule counts n. Replaces the history part of tests/e2e/test_history_gate.py.
"""

import re

import dagster as dg

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import main, materialize
from beyond_vibes_assets.orchestration.sync import sync_instance
from resources.warehouse import WarehouseResource
from tests.browser import inspect_report
from tests.conftest import make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

VARIANT = "echo~api~openai_compatible"
ECHO = [{"id": f"e{i}", "prompt": f"Write the word apple, then the number {i}.", "check": {"pattern": r"\S"}}
        for i in range(10)]


def test_history_points_are_measurements_series_follow_the_task_and_the_gate_counts_n(home, tmp_path, monkeypatch,
                                                                                    capsys):
    answers = {"text": "apple"}
    endpoint = ScriptedEndpoint(lambda body: answers["text"] + " " + last_user(body)[-3:] if answers["text"] else "")
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["echo"]))
    make_pack(tmp_path / "packs", "echo", ECHO, verifier="regex", max_tokens=12)
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    inst, wh = dg.DagsterInstance.ephemeral(), WarehouseResource()
    sync_instance(inst, CatalogResource())
    key = dg.MultiPartitionKey({"variant": VARIANT, "task": "echo"})
    store = home / "responses" / VARIANT / "echo.jsonl"

    def measure(fresh: bool = True) -> None:
        if fresh:
            store.unlink(missing_ok=True)  # a new measurement: every answer asked again
        assert materialize(["pack_results"], key, instance=inst)

    with endpoint.running():
        assert materialize(["pack_definition"], "echo", instance=inst)
        measure()
        measure(fresh=False)  # the same answers scored again: no new point
        assert wh.query("SELECT count(*) AS n FROM score_history") == [{"n": 1}]
        measure()
        measure()
        rows = wh.query("SELECT rate, run_id, harness_commit, task_fingerprint, answers_digest FROM score_history")
        assert len(rows) == 3 and len({r["run_id"] for r in rows}) == 3 and {r["rate"] for r in rows} == {1.0}
        assert all(r["harness_commit"] and r["task_fingerprint"] and r["answers_digest"] for r in rows)
        assert main(["baseline", "save", "main"]) == 0
        capsys.readouterr()
        assert main(["gate", "--baseline", "main"]) == 0 and "gate passed" in capsys.readouterr().out

        answers["text"] = ""  # the model gets worse: every reply empty
        measure()
        assert main(["gate", "--baseline", "main"]) == 1
        out = capsys.readouterr().out
        assert "sigma" in out and "pass rate down" in out and VARIANT in out

        # a changed task is a new series: "not comparable", never "regression"
        make_pack(tmp_path / "packs", "echo", ECHO[:5], verifier="regex", max_tokens=12)
        assert materialize(["pack_definition"], "echo", instance=inst)
        measure(fresh=False)
        assert main(["gate", "--baseline", "main"]) == 0
        assert "not comparable" in capsys.readouterr().out

        answers["text"] = "apple"
        measure()
        assert materialize(["curated_dataset", "report"], instance=inst)
    report = (home / "reports" / "report.md").read_text()
    assert "## History and regressions" in report
    html = (home / "reports" / "report.html").read_text()
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # self-contained
    result = inspect_report(home / "reports" / "report.html", home, home / "reports" / "report.png")
    ids = {p["id"] for p in result["plots"]}
    assert {"plot-frontier", "plot-pack-rates", "plot-history"} <= ids, ids
    assert all(p["width"] > 200 and p["height"] > 100 and p["drawn"] > 10 for p in result["plots"]), result["plots"]
    assert not [c for c in result["console"] if "error" in c.lower()], result["console"]
    # at 1400 px nothing is cut: every table and the page itself fit the width (the leaderboard was wider before)
    assert result["tables"] and max(result["tables"]) <= 1400 and result["page"] <= 1400, result


def test_the_python_api_reads_the_published_snapshot(home):
    """`from beyond_vibes_assets import api`: the snapshot's tables as DuckDB relations, filters, SQL."""
    import pytest

    from beyond_vibes_assets import api

    with pytest.raises(KeyError, match="no published table"):
        api.table("samples")
    snap = api.snapshot_dir()
    snap.mkdir(parents=True)
    import duckdb

    duckdb.sql("SELECT 'a~x~y' AS variant, 'math' AS task, true AS passed UNION ALL "
               "SELECT 'b~x~y', 'math', false").write_parquet(str(snap / "samples.parquet"))
    assert api.tables() == ["samples"]
    assert api.samples(variant="b~x~y").df()["passed"].tolist() == [False]
    assert api.sql("SELECT count(*) AS n FROM samples WHERE passed").fetchall() == [(1,)]
