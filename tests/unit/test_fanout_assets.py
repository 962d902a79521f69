"""Asset bodies in memory, in seconds: pack_results, sim_episodes, lm_eval_results, judge_program and judge_scores
materialized against a scripted OpenAI-compatible endpoint (tests/scripted.py, a real local HTTP server behind the platform's own
client classes: mocked only because no model runs here; the real engine is the e2e tier's). Covers what the one
partition run (fanout.py) promises: one materialization per partition, partial failure with Dagster's key format,
`only`, all-answered variants first with no model call, the coverage checks, and staleness after an edit.
"""

import json
import re

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import main, materialize
from beyond_vibes_assets.cli.staleness import partition_range, stale_status
from beyond_vibes_assets.orchestration.sync import sync_instance
from resources import llm_client
from tests.conftest import latest_data_version, make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

GOOD, BAD = "good~api~openai_compatible", "bad~api~openai_compatible"
MATH = [{"id": f"add{i}", "prompt": f"What is {i} + {i}? Reply with the number only.", "check": {"answer": 2 * i}}
        for i in range(1, 6)]
WORDS = [{"id": f"w{i}", "prompt": f"Say the word number {i}.", "check": {"answer": f"word{i}"}} for i in range(3)]


def answer(body):
    """`good` answers right, `bad` answers 0 or nonsense."""
    text = last_user(body)
    if body.get("model") == "bad":
        return "0"
    if m := re.search(r"What is (\d+) \+ (\d+)", text):
        return str(int(m.group(1)) + int(m.group(2)))
    if m := re.search(r"word number (\d+)", text):
        return f"word{m.group(1)}"
    return "?"


@pytest.fixture()
def scripted(home, tmp_path, monkeypatch):
    endpoint = ScriptedEndpoint(answer)
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["good", "bad"]))
    make_pack(tmp_path / "packs", "math", MATH, verifier="numeric")
    make_pack(tmp_path / "packs", "words", WORDS, verifier="exact")
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    # a failed call is retried as configured, without the backoff's seconds (its waits: tests/unit/test_llm_client.py)
    monkeypatch.setattr(llm_client, "backoff_delay", lambda *args, **kwargs: 0.01)
    instance = dg.DagsterInstance.ephemeral()
    sync_instance(instance, CatalogResource())
    with endpoint.running():
        yield endpoint, instance, tmp_path


def key(variant, task, dim="task"):
    return dg.MultiPartitionKey({"variant": variant, dim: task})


def run(instance, asset, keys, config=None):
    tags, _ = partition_range(instance, asset, keys)
    run_config = {"ops": {asset: {"config": config}}} if config else None
    ok = materialize([asset], None, run_config=run_config, instance=instance, tags=tags)
    return ok, _materialized(instance, asset)


def _materialized(instance, asset):
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records
    return [r.partition_key for r in records]


def _check(instance, asset, name):
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), name), limit=1)
    return records[0].evaluation.passed if records and records[0].evaluation else None


def test_pack_results_fan_out_answered_first_only_and_staleness(scripted):
    endpoint, instance, tmp = scripted
    keys = [key(v, t) for v in (GOOD, BAD) for t in ("math", "words")]
    assert run(instance, "pack_definition", ["math", "words"])[0]
    ok, done = run(instance, "pack_results", keys)
    assert ok and sorted(done) == sorted(str(k) for k in keys)  # one materialization per partition
    assert endpoint.count() == 2 * (len(MATH) + len(WORDS))
    assert _check(instance, "pack_results", "every_item_once") is True
    from resources.warehouse import WarehouseResource

    rates = {(r["variant"], r["task"]): r["n_passed"] for r in
             WarehouseResource().query("SELECT variant, task, count(*) FILTER (WHERE passed) AS n_passed FROM samples "
                                       "GROUP BY ALL")}
    assert rates[(GOOD, "math")] == 5 and rates[(BAD, "math")] == 0 and rates[(GOOD, "words")] == 3
    # everything stored: a second run sends nothing and starts nothing
    before = endpoint.count()
    ok, done = run(instance, "pack_results", keys)
    assert ok and endpoint.count() == before and len(done) == 8
    # `only` narrows the launched range to exactly the wanted partitions
    ok, done = run(instance, "pack_results", keys, {"only": [str(key(GOOD, "words"))]})
    assert ok and done.count(str(key(GOOD, "words"))) == 3 and done.count(str(key(BAD, "math"))) == 2
    # an edited pack makes its partitions stale, not the others
    assert stale_status(instance, "pack_results", key(GOOD, "words")) == "FRESH"
    make_pack(tmp / "packs", "words", WORDS[:2], verifier="exact")
    sync_instance(instance, CatalogResource())
    run(instance, "pack_definition", ["words"])
    assert stale_status(instance, "pack_results", key(GOOD, "words")) == "STALE"
    assert stale_status(instance, "pack_results", key(GOOD, "math")) == "FRESH"


def test_a_variant_s_answered_partitions_are_recorded_apart_from_its_model_calls(scripted):
    """A variant with new work in one pack and every answer stored for another records the answered partition with
    no model call, apart from the new work: here, with no engine pool to wait for, after it (while the run waits for
    the pool, it is recorded meanwhile: tests/unit/test_engine_wait.py)."""
    from beyond_vibes_assets.runner.family import Prepared

    endpoint, instance, _ = scripted
    assert run(instance, "pack_definition", ["math", "words"])[0]
    assert run(instance, "pack_results", [key(GOOD, "words")])[0]
    sent = endpoint.count()
    ok, _ = run(instance, "pack_results", [key(GOOD, "math"), key(GOOD, "words")])
    assert ok and endpoint.count() - sent == len(MATH)
    (last,) = instance.get_runs(limit=1)
    order = [e.dagster_event.partition for e in instance.all_logs(last.run_id)
             if e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"]
    assert order == [str(key(GOOD, "math")), str(key(GOOD, "words"))]
    # the split itself: a family that cannot serve a subset (no by_name) keeps the variant whole
    whole = Prepared("v", {"a": 1, "b": 2}, 3)
    assert whole.split() == (None, whole)
    answered, todo = Prepared("v", {"a": 1, "b": 2}, 3, by_name={"a": 0, "b": 3}).split()
    assert (answered.definitions, answered.pending, todo.definitions, todo.pending) == ({"a": 1}, 0, {"b": 2}, 3)
    assert Prepared("v", {"a": 1}, 0).split()[1] is None


def test_a_broken_pack_fails_only_its_partitions_named_in_dagster_s_key_format(scripted, capsys):
    endpoint, instance, tmp = scripted
    (tmp / "packs" / "words" / "items.jsonl").write_text("{not json\n")
    keys = [key(v, t) for v in (GOOD, BAD) for t in ("math", "words")]
    ok, done = run(instance, "pack_results", keys)
    assert not ok and sorted(done) == sorted([str(key(GOOD, "math")), str(key(BAD, "math"))])
    err = capsys.readouterr().err
    assert "2 of 4 partition(s) failed" in err and f"words|{GOOD}" in err and f"words|{BAD}" in err


def test_model_calls_that_fail_are_failure_modes_and_a_rerun_retries_them(scripted, monkeypatch):
    endpoint, instance, tmp = scripted
    endpoint.script = lambda body: {"status": 503} if body.get("model") == "bad" else answer(body)
    keys = [key(v, "math") for v in (GOOD, BAD)]
    ok, done = run(instance, "pack_results", keys)
    assert ok and len(done) == 2
    from resources.warehouse import WarehouseResource

    modes = WarehouseResource().query("SELECT failure_mode, count(*) AS n FROM samples WHERE variant = ? GROUP BY ALL", [BAD])
    assert modes == [{"failure_mode": "server_error", "n": 5}]
    endpoint.script = answer
    sent = endpoint.count()
    ok, _ = run(instance, "pack_results", keys)
    assert ok and endpoint.count() - sent == 5  # only the failed calls are re-sent


SIM_TASK = {"version": "1", "archetype": "planning", "description": "write a note", "prompt": "Write NOTE.md saying hi.",
            "tools": ["write_file", "finish"], "limits": {"max_steps": 5, "max_tokens": 256, "time_budget_s": 60},
            "criteria": [{"type": "file_exists", "name": "note", "path": "NOTE.md"}],
            "reference": {"overlay": "reference/files", "answer": "reference/answer.md"}}


def agent_script(body):
    """A scripted agent in prompted mode: write the note, finish, then keep its answer under pushback."""
    said = " ".join(m.get("content") or "" for m in body.get("messages") or [] if m.get("role") == "assistant")
    if body.get("model") == "bad":
        return json.dumps({"tool": "finish", "arguments": {"answer": "done"}})
    if "write_file" not in said:
        return json.dumps({"tool": "write_file", "arguments": {"path": "NOTE.md", "content": "hi"}})
    return json.dumps({"tool": "finish", "arguments": {"answer": "Wrote NOTE.md."}})


def write_note_sim(tmp_path, monkeypatch) -> None:
    """The `note` sim (write NOTE.md, finish) under tmp_path/sims, named by BEYOND_VIBES_SIMS."""
    import yaml

    sim = tmp_path / "sims" / "note"
    (sim / "repo").mkdir(parents=True)
    (sim / "repo" / "README.md").write_text("a repo\n")
    (sim / "reference" / "files").mkdir(parents=True)
    (sim / "reference" / "files" / "NOTE.md").write_text("hi\n")
    (sim / "reference" / "answer.md").write_text("Wrote NOTE.md.\n")
    (sim / "task.yaml").write_text(yaml.safe_dump(SIM_TASK))
    monkeypatch.setenv("BEYOND_VIBES_SIMS", str(tmp_path / "sims"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")


def note_sim_episodes(endpoint, instance, tmp_path, monkeypatch):
    """The `note` sim and an episode of each variant played by the scripted agent; the partition keys."""
    endpoint.script = agent_script
    write_note_sim(tmp_path, monkeypatch)
    sync_instance(instance, CatalogResource())
    run(instance, "sim_definition", ["note"])
    keys = [key(v, "note", "sim") for v in (GOOD, BAD)]
    ok, done = run(instance, "sim_episodes", keys)
    assert ok and sorted(done) == sorted(str(k) for k in keys)
    return keys


def test_sim_episodes_fan_out_with_a_scripted_agent(scripted, tmp_path, monkeypatch):
    endpoint, instance, tmp = scripted
    keys = note_sim_episodes(endpoint, instance, tmp_path, monkeypatch)
    assert _check(instance, "sim_episodes", "every_episode_once") is True
    from resources.warehouse import WarehouseResource

    rows = {r["variant"]: r for r in WarehouseResource().query("SELECT variant, success, stop_reason FROM sim_episodes")}
    assert rows[GOOD]["success"] and not rows[BAD]["success"] and rows[GOOD]["stop_reason"] == "finished"
    sent = endpoint.count()
    ok, _ = run(instance, "sim_episodes", keys)
    assert ok and endpoint.count() == sent  # stored episodes are re-scored, not re-run
    # an override (two repeats) is its own series beside the canonical rows, never mixed in (replaces
    # tests/e2e/test_sim_episodes.py::test_an_override_run_sits_beside_the_canonical_rows)
    ok, _ = run(instance, "sim_episodes", keys[:1], {"repeats": 2})
    assert ok
    rows = WarehouseResource().query("SELECT series, canonical, count(*) AS n FROM sim_episodes WHERE variant = ? "
                                     "GROUP BY ALL ORDER BY 1", [GOOD])
    assert rows == [{"series": "builtin/prompted x2", "canonical": False, "n": 2},
                    {"series": "canonical", "canonical": True, "n": 1}]
    steps = WarehouseResource().query("SELECT DISTINCT series FROM sim_steps ORDER BY 1")
    assert [r["series"] for r in steps] == ["builtin/prompted x2", "canonical"]
    assert WarehouseResource().query("SELECT count(*) AS n FROM current_episodes") == [{"n": 2}]  # canonical only

    # a metric's code changes: the sims go stale, the packs do not, and re-scoring asks the model nothing (replaces
    # tests/e2e/test_sim_episodes.py::test_a_metric_change_restales_only_sims_and_rescoring_sends_nothing)
    from beyond_vibes_assets.agent.episodes import episode_store
    from beyond_vibes_assets.catalog import sims as sims_module

    assert run(instance, "pack_definition", ["math"])[0] and run(instance, "pack_results", [key(GOOD, "math")])[0]
    before, sent = episode_store(GOOD, "note").records(), endpoint.count()
    real = sims_module.criteria_code_version
    monkeypatch.setattr(sims_module, "criteria_code_version", lambda: "edited-" + real())
    assert run(instance, "sim_definition", ["note"])[0]
    assert stale_status(instance, "sim_episodes", keys[0]) == "STALE"
    assert stale_status(instance, "pack_results", key(GOOD, "math")) == "FRESH"
    assert run(instance, "sim_episodes", keys)[0]
    assert endpoint.count() == sent and episode_store(GOOD, "note").records() == before  # re-scored from the records
    assert stale_status(instance, "sim_episodes", keys[0]) == "FRESH"


def test_lm_eval_results_fan_out_with_only_and_coverage(scripted):
    endpoint, instance, tmp = scripted
    from beyond_vibes_assets.settings import REPO_ROOT

    config = (tmp / "models.yaml").read_text()
    task = "bv_arith"
    (tmp / "models.yaml").write_text(config + f"lm_eval:\n  include_path: {REPO_ROOT / 'lm_eval_tasks'}\n  tasks:\n"
                                              f"    - name: {task}\n      limit: 4\n")
    sync_instance(instance, CatalogResource())
    keys = [key(v, task, "lmeval") for v in (GOOD, BAD)]
    ok, done = run(instance, "lm_eval_results", keys)
    assert ok and sorted(done) == sorted(str(k) for k in keys)
    assert _check(instance, "lm_eval_results", "every_document_once") is True
    sent = endpoint.count()
    ok, done = run(instance, "lm_eval_results", keys, {"only": [str(keys[0])]})
    assert ok and endpoint.count() == sent and done.count(str(keys[0])) == 2 and done.count(str(keys[1])) == 1


NOTE_RUBRIC = {"name": "notes", "archetypes": ["planning"], "criteria": [{
    "name": "done", "question": "Did the agent write the note it was asked for?", "sees": ["task", "final_answer"],
    "anchors": {1: "no note", 2: "claims without doing", 3: "partly", 4: "nearly", 5: "wrote it and says so"}}]}


def judge_script(agent):
    """Judge calls (structured output: a response_format) get a verdict from what the evidence says; the rest is
    the scripted agent. A judge call about an answer containing 'FAILME' gets an HTTP 503."""
    def script(body):
        if not body.get("response_format"):
            return agent(body)
        text = " ".join(str(m.get("content")) for m in body.get("messages") or [])
        evidence = text.rsplit("## Final answer", 1)[-1]
        if "FAILME" in evidence:
            return {"status": 503, "retry_after": 0}  # the judge's retries run at once: counted, not waited for
        good = "Wrote NOTE.md" in evidence
        return json.dumps({"rationale": "wrote it" if good else "no note", "score": 5 if good else 1})
    return script


def notes_judge(endpoint, instance, tmp_path, monkeypatch) -> None:
    """The `notes` rubric with 12 labels, judged by the API model `good` on the scripted endpoint."""
    import yaml

    judges = tmp_path / "judges"
    (judges / "labels").mkdir(parents=True)
    (judges / "notes.yaml").write_text(yaml.safe_dump(NOTE_RUBRIC))
    labels = [{"id": f"notes-{i}", "sim": "note", "criterion": "done", "score": 5 if i % 2 else 1,
               "rationale": "hand label " + str(i), "source": "reference" if i % 2 else "flawed",
               "sample": {"task": "Write NOTE.md saying hi.", "final_answer": f"Wrote NOTE.md. ({i})" if i % 2
                          else f"done ({i})"}} for i in range(12)]
    (judges / "labels" / "notes.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels))
    monkeypatch.setenv("BEYOND_VIBES_JUDGES", str(judges))
    config = tmp_path / "models.yaml"
    config.write_text("judges:\n  - name: j\n    model: good\n" + config.read_text())
    sync_instance(instance, CatalogResource())
    endpoint.script = judge_script(agent_script)
    instance.add_dynamic_partitions("rubric", ["notes"])


def test_a_judge_compiled_without_its_baseline_measures_only_the_baseline_when_a_later_run_asks(
        scripted, tmp_path, monkeypatch):
    """The default demo compiles judges without the uncompiled baseline (half its judge calls); a later run that asks
    for it (`judges compile`, `demo --full`) measures only it: one call per held-out label, the same program, the
    same data version (nothing downstream goes stale), and a baseline row beside the compiled one."""
    from resources.warehouse import WarehouseResource

    endpoint, instance, _ = scripted
    notes_judge(endpoint, instance, tmp_path, monkeypatch)
    judge_calls = lambda: sum(1 for r in endpoint.requests if r.get("response_format"))  # noqa: E731
    version = lambda: latest_data_version(instance, "judge_program")  # noqa: E731
    query = "SELECT program, n_held_out, kappa, program_hash FROM judge_programs ORDER BY program"
    demo = {"mlflow_judge": False, "baseline": False}
    assert run(instance, "judge_program", ["notes"], demo)[0]
    (compiled,) = WarehouseResource().query(query)
    assert compiled["program"] == "compiled" and compiled["kappa"] == 1.0 and compiled["n_held_out"] > 0
    first_version, before = version(), judge_calls()
    assert run(instance, "judge_program", ["notes"], demo)[0] and judge_calls() == before  # stored: nothing asked

    assert run(instance, "judge_program", ["notes"], {"mlflow_judge": False})[0]
    assert judge_calls() - before == compiled["n_held_out"]  # the baseline's held-out calls, no recompilation
    rows = WarehouseResource().query(query)
    assert [r["program"] for r in rows] == ["baseline", "compiled"] and rows[1] == compiled
    assert rows[0]["n_held_out"] == compiled["n_held_out"] and version() == first_version
    before = judge_calls()
    assert run(instance, "judge_program", ["notes"], {"mlflow_judge": False})[0] and judge_calls() == before


def test_judge_scores_fan_out_cached_partial_failure_and_only(scripted, tmp_path, monkeypatch):
    """judge_program compiled against labels and judge_scores over stored episodes, in memory against a scripted
    API judge (the real judge is the e2e tier's SmolLM2): one row per episode and criterion, a second run asks
    nothing, `only` narrows, a judge call that fails is a failure mode (never a score) and is asked again next run."""
    endpoint, instance, tmp = scripted
    keys = note_sim_episodes(endpoint, instance, tmp_path, monkeypatch)
    notes_judge(endpoint, instance, tmp_path, monkeypatch)
    ok, done = run(instance, "judge_program", ["notes"], {"mlflow_judge": False})
    assert ok and done == ["notes"]
    from resources.warehouse import WarehouseResource

    wh = WarehouseResource()
    programs = wh.query("SELECT program, n_held_out, kappa FROM judge_programs ORDER BY program")
    assert [p["program"] for p in programs] == ["baseline", "compiled"] and programs[1]["n_held_out"] > 0
    assert programs[1]["kappa"] == 1.0  # the scripted judge agrees with every label

    judge_calls = lambda: sum(1 for r in endpoint.requests if r.get("response_format"))  # noqa: E731
    # first with a judge that fails on the bad variant's episode: a failure mode, never a score
    working = judge_script(agent_script)
    endpoint.script = lambda body: (working({**body, "messages": [{"content": "FAILME"}]})
                                    if body.get("response_format") and "Wrote NOTE.md" not in json.dumps(body["messages"][-1:])
                                    else working(body))
    ok, done = run(instance, "judge_scores", keys)
    assert sorted(done) == sorted(str(k) for k in keys)
    rows = {r["variant"]: r for r in wh.query("SELECT variant, rubric, criterion, score, failure_mode FROM judge_scores")}
    assert rows[GOOD]["score"] == 5 and rows[GOOD]["failure_mode"] is None
    assert rows[BAD]["score"] is None and rows[BAD]["failure_mode"] == "endpoint_failure", rows[BAD]
    # the judge is back: only the failed call is asked again
    endpoint.script = working
    before = judge_calls()
    ok, done = run(instance, "judge_scores", keys)
    rows = {r["variant"]: r for r in wh.query("SELECT variant, score, failure_mode FROM judge_scores")}
    assert ok and (rows[GOOD]["score"], rows[BAD]["score"]) == (5, 1) and judge_calls() - before == 1
    # everything cached: a further run asks the judge nothing
    before = judge_calls()
    ok, done = run(instance, "judge_scores", keys)
    assert ok and judge_calls() == before
    # `only` narrows the run to the wanted partition
    n = len(done)
    ok, done = run(instance, "judge_scores", keys, {"only": [str(keys[0])]})
    assert ok and len(done) == n + 1 and done.count(str(keys[0])) > done.count(str(keys[1]))

    # a second rubric, then an edit of the first: only the edited rubric's program changes, judge_scores goes stale,
    # and re-scoring asks only the edited rubric's calls, one per episode (replaces the rubric-edit half of
    # tests/e2e/test_judges.py, whose real judge now covers compiling and scoring once)
    judges = tmp_path / "judges"
    (judges / "tidy.yaml").write_text((judges / "notes.yaml").read_text().replace("name: notes", "name: tidy"))
    (judges / "labels" / "tidy.jsonl").write_text((judges / "labels" / "notes.jsonl").read_text().replace(
        '"notes-', '"tidy-'))
    instance.add_dynamic_partitions("rubric", ["tidy"])
    sync_instance(instance, CatalogResource())
    compiled_only = {"mlflow_judge": False, "baseline": False}
    assert run(instance, "judge_program", ["notes", "tidy"], compiled_only)[0]
    assert run(instance, "judge_scores", keys)[0]
    assert {r["rubric"] for r in wh.query("SELECT DISTINCT rubric FROM judge_scores")} == {"notes", "tidy"}
    version = lambda rubric: latest_data_version(instance, "judge_program", rubric)  # noqa: E731
    versions = {r: version(r) for r in ("notes", "tidy")}
    cache_keys = {(r["variant"], r["rubric"]): r["cache_key"] for r in wh.query(
        "SELECT variant, rubric, cache_key FROM judge_scores")}
    path = judges / "notes.yaml"
    path.write_text(path.read_text().replace("the note it was asked for", "the one note it was asked for"))
    assert run(instance, "judge_program", ["notes", "tidy"], compiled_only)[0]
    assert version("notes") != versions["notes"] and version("tidy") == versions["tidy"]
    assert stale_status(instance, "judge_scores", keys[0]) == "STALE"
    before = judge_calls()
    assert run(instance, "judge_scores", keys)[0] and judge_calls() - before == len(keys)
    after = {(r["variant"], r["rubric"]): r["cache_key"] for r in wh.query(
        "SELECT variant, rubric, cache_key FROM judge_scores")}
    assert all((after[k] == v) == (k[1] == "tidy") for k, v in cache_keys.items())


def test_packs_run_sees_an_edited_pack_without_being_told(scripted, capsys):
    """`beyond-vibes packs run` (and the demo) read the pack files every time: an item added to a pack is answered on
    the next run. (Before, pack_definition counted as fresh until forced, so an edited pack kept its old results.)"""
    endpoint, instance, tmp = scripted
    argv = ["packs", "run", "--variant", GOOD, "--pack", "math"]
    assert main(argv) == 0
    first = endpoint.count()
    assert first == len(MATH)
    assert main(argv) == 0 and endpoint.count() == first  # nothing changed: nothing sent
    more = MATH + [{"id": "add9", "prompt": "What is 9 + 9? Reply with the number only.", "check": {"answer": 18}}]
    make_pack(tmp / "packs", "math", more, verifier="numeric")
    assert main(argv) == 0
    assert endpoint.count() == first + 1  # only the new item is asked
    from resources.warehouse import WarehouseResource

    rows = WarehouseResource().query("SELECT count(*) AS n FROM samples WHERE variant = ? AND task = 'math'", [GOOD])
    assert rows == [{"n": len(more)}]
