"""A real judge (SmolLM2 on a real one-slot llama-server) compiled with DSPy against labels, then scoring a real stored
episode: agreement rows for compiled, baseline and MLflow's judge, judge_scores rows, MLflow assessments on the
episode's trace, zero judge requests on a second materialization. (A rubric edit re-asking only its own calls is
tests/unit/test_fanout_assets.py::test_judge_scores_fan_out_cached_partial_failure_and_only's, against a scripted
judge: the real one added nothing there but its compile time.)"""

import json

import dagster as dg
import pytest
import yaml

from beyond_vibes_assets.cli.main import materialize, materialize_many
from beyond_vibes_assets.cli.staleness import stale_status
from beyond_vibes_assets.definitions import default_resources
from resources.warehouse import WarehouseResource
from tests.conftest import VARIANT, latest_data_version, latest_metadata
from tests.e2e.test_sim_episodes import ready

pytestmark = pytest.mark.e2e
JUDGE = f"judges:\n  - name: smol\n    variant: {VARIANT}\n"
# two held out (a 5 and a 1: the split is by artefact hash) and two to train on; every held-out label costs three real
# judge calls per rubric (compiled, baseline, MLflow's), so no more than the assertions need
ANSWERS = [("greet returns 'Hello ' + name, e.g. 'Hello x'.", 5), ("It returns a greeting string starting with Hello.", 4),
           ("It returns something, probably a string.", 2), ("greet returns None.", 1)]


def judges_folder(root):
    folder = root / "judges"
    (folder / "labels").mkdir(parents=True)
    for rubric, criterion, question in (("grounding", "correct", "Does the answer say what greet really returns?"),
                                        ("style", "clear", "Is the answer one clear sentence a reader can act on?")):
        (folder / f"{rubric}.yaml").write_text(yaml.safe_dump({
            "name": rubric, "archetypes": ["research"], "criteria": [{
                "name": criterion, "question": question, "sees": ["task", "final_answer"],
                "anchors": {1: "wrong or missing", 2: "vague", 3: "partly right", 4: "right, minor gap", 5: "exactly right"}}]}))
        lines = [json.dumps({"id": f"{rubric}-{i}", "sim": "hello", "criterion": criterion, "score": score,
                             "rationale": f"hand label: {answer[:30]}", "source": "flawed" if score < 4 else "reference",
                             "sample": {"task": "Read greet.py and tell me what greet returns.", "final_answer": answer}})
                 for i, (answer, score) in enumerate(ANSWERS)]
        (folder / "labels" / f"{rubric}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _server_starts(home) -> int:
    log = home / "logs" / VARIANT / "judge-smol.log"
    return sum(1 for line in log.read_text().splitlines() if line.startswith("# ")) if log.exists() else 0


def test_compiled_judges_score_real_episodes_once_and_people_s_assessments_become_labels(smol_env, tmp_path, monkeypatch):
    folder = judges_folder(tmp_path)
    monkeypatch.setenv("BEYOND_VIBES_JUDGES", str(folder))
    env, inst, key = ready(smol_env, tmp_path, monkeypatch, edit_config=lambda text: JUDGE + text)
    inst.add_dynamic_partitions("rubric", ["grounding", "style"])
    assert materialize(["sim_episodes"], key, instance=inst)
    resources = default_resources()

    assert materialize_many("judge_program", ["grounding", "style"], instance=inst, resources=resources, force=True)
    wh = WarehouseResource()
    programs = wh.query("SELECT rubric, backend, program, n_held_out, scored, kappa, trusted, trust_reason, program_hash "
                        "FROM judge_programs ORDER BY rubric, backend, program")
    assert [(p["rubric"], p["backend"], p["program"]) for p in programs] == [
        (r, b, p) for r in ("grounding", "style") for b, p in (("dspy", "baseline"), ("dspy", "compiled"), ("mlflow", "make_judge"))]
    # held-out labels are whole samples (every criterion of one artefact on one side): 2 and 2 here
    assert {(p["rubric"], p["n_held_out"]) for p in programs} == {("grounding", 2), ("style", 2)}
    assert all(p["trusted"] is False and p["trust_reason"] for p in programs)  # 2 held-out labels can never be trusted
    check = inst.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("judge_program"), "judge_agreement")])
    assert check and list(check.values())[0].status.value == "FAILED"
    agreement = latest_metadata(inst, "judge_program", "grounding")["smol/agreement"].value
    assert set(agreement) >= {"compiled", "baseline", "mlflow", "n_train", "n_held_out"}
    assert _server_starts(env.home) == 1  # one judge server for both rubrics

    assert materialize(["judge_scores"], key, instance=inst)
    rows = wh.query("SELECT rubric, criterion, score, failure_mode, program_hash, trace_id, cache_key FROM judge_scores "
                    "ORDER BY rubric")
    assert [(r["rubric"], r["criterion"]) for r in rows] == [("grounding", "correct"), ("style", "clear")]
    assert all((r["score"] is None) != (r["failure_mode"] is None) for r in rows)  # a score or a failure, never both
    assert {r["program_hash"] for r in rows} == {p["program_hash"] for p in programs if p["program"] == "compiled"}
    first = latest_metadata(inst, "judge_scores", key)
    assert first["sent"].value == 2 and first["cached"].value == 0 and first["mlflow_assessments_logged"].value == 2

    from beyond_vibes_assets.agent.traces import judge_assessments

    assessments = judge_assessments(rows[0]["trace_id"])
    assert {a.name for a in assessments} == {"grounding/correct", "style/clear"}
    assert all(a.source.source_id == "smol" and a.metadata["program_hash"] for a in assessments)

    # again: the stored programs are reused and every judge call is cached, so no judge server starts at all
    starts = _server_starts(env.home)
    versions = {r: latest_data_version(inst, "judge_program", r) for r in ("grounding", "style")}
    assert materialize_many("judge_program", ["grounding", "style"], instance=inst, resources=resources, force=True)
    assert {r: latest_data_version(inst, "judge_program", r) for r in versions} == versions
    assert stale_status(inst, "judge_scores", key) == "FRESH"
    assert materialize(["judge_scores"], key, instance=inst)
    again = latest_metadata(inst, "judge_scores", key)
    assert again["sent"].value == 0 and again["cached"].value == 2 and again["mlflow_assessments_logged"].value == 0
    assert _server_starts(env.home) == starts
    assert len(judge_assessments(rows[0]["trace_id"])) == 2

    # a person's assessment on the trace in MLflow becomes a label of the rubric it names
    import mlflow
    from mlflow.entities import AssessmentSource

    from beyond_vibes_assets.cli.main import main

    mlflow.log_feedback(trace_id=rows[0]["trace_id"], name="grounding/correct", value=2, rationale="never read greet.py",
                        source=AssessmentSource(source_type="HUMAN", source_id="reviewer"))
    assert main(["judges", "import-mlflow", "--rubric", "grounding"]) == 0
    assert main(["judges", "import-mlflow", "--rubric", "grounding"]) == 0  # idempotent
    imported = [json.loads(line) for line in (folder / "labels" / "grounding.jsonl").read_text().splitlines()][len(ANSWERS):]
    assert len(imported) == 1 and imported[0]["score"] == 2 and imported[0]["source"] == "episode"
    assert imported[0]["labeller"] == "reviewer" and imported[0]["sample"]["task"].startswith("Read greet.py")

    assert materialize(["curated_dataset", "report"], instance=inst)
    report = (env.home / "reports" / "report.md").read_text()
    assert "## Judges" in report and "**no** (only 2 held-out label(s) (need 20))" in report
    assert "grounding / correct ⚠" in report


def test_a_pack_s_llm_judge_items_are_judged_by_the_real_judge_while_their_variant_serves(smol_env, tmp_path):
    """pack_results on `verifier: llm_judge` items with the real SmolLM2 judge: the judge's own one-slot server
    starts while the variant's still serves (sharing its engine slot: waiting would deadlock on our own lock), every
    reply gets a score or a judge_failure (never both), the verdicts say ⚠ untrusted (no labels), and a second
    materialization asks neither the model nor the judge anything."""
    items = [{"id": f"s{i}", "prompt": f"Say in one sentence what colour the sky is on a clear day ({i}).",
              "check": {"rubric": "answer.yaml", "pass_at": 3}, "max_tokens": 40} for i in range(2)]
    env = smol_env(packs={"sky": (items, {"verifier": "llm_judge"})}, prepared=True)
    (env.packs / "sky" / "answer.yaml").write_text(yaml.safe_dump({"name": "answer", "criteria": [{
        "name": "correct", "question": "Does the reply say the sky is blue?", "sees": ["task", "final_answer"],
        "anchors": {1: "no answer", 2: "wrong colour", 3: "vague", 4: "blue, with noise", 5: "blue, clearly"}}]}))
    env.config.write_text(JUDGE + env.config.read_text())
    inst = env.instance
    assert materialize(["pack_definition"], "sky", instance=inst)
    key = dg.MultiPartitionKey({"variant": VARIANT, "task": "sky"})
    assert materialize(["pack_results"], key, instance=inst)
    rows = WarehouseResource().query("SELECT score, failure_mode, verdict_detail FROM samples ORDER BY sample_id")
    assert len(rows) == 2 and all((r["score"] is None) != (r["failure_mode"] is None) for r in rows)
    assert all(r["failure_mode"] in (None, "judge_failure") for r in rows)
    assert all(json.loads(r["verdict_detail"]).get("trusted") is False for r in rows if r["failure_mode"] is None)
    first = latest_metadata(inst, "pack_results", key)
    assert first["sent"].value == 2 and first["judge_calls_sent"].value == 2 and _server_starts(env.home) == 1
    assert materialize(["pack_results"], key, instance=inst)
    again = latest_metadata(inst, "pack_results", key)
    assert again["sent"].value == 0 and again["judge_calls_sent"].value == 0 and again["judge_calls_cached"].value == 2
    assert _server_starts(env.home) == 1  # every verdict cached: no judge server started
