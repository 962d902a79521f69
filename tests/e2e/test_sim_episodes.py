"""Real agent episodes against the real llama-server (SmolLM2, built-in harness, both tool modes), in the real
sandbox: the episode record, the warehouse rows and the resume rule agree."""

import dagster as dg
import pytest
import yaml

from beyond_vibes_assets.agent.episodes import episode_store
from beyond_vibes_assets.agent.loop import STOP_REASONS
from beyond_vibes_assets.cli.main import materialize
from resources.warehouse import WarehouseResource
from tests.conftest import LIGHT_PROBE, MATH_ITEMS, VARIANT

pytestmark = pytest.mark.e2e


def tiny_sim(root):
    folder = root / "sims" / "hello"
    (folder / "repo").mkdir(parents=True)
    (folder / "repo" / "greet.py").write_text("def greet(name):\n    return 'Hello ' + name\n")
    (folder / "reference").mkdir()
    (folder / "reference" / "answer.md").write_text("greet returns 'Hello ' + name.\n")
    (folder / "task.yaml").write_text(yaml.safe_dump({
        "archetype": "research", "description": "Read one function and say what it returns.",
        "prompt": "Read greet.py and tell me what {fn} returns. Use read_file, then finish with your answer.",
        "vars": {"fn": "greet"}, "tools": ["list_files", "read_file", "finish"],
        "limits": {"max_steps": 4, "max_tokens": 96, "time_budget_s": 240},
        "criteria": [{"type": "answer", "verifier": "mentions", "check": {"must": ["Hello"]}},
                     {"type": "command", "run": "python -c \"import greet; assert greet.greet('x') == 'Hello x'\""}],
        "reference": {"overlay": None, "answer": "reference/answer.md"}}))
    return folder.parent


def ready(smol_env, tmp_path, monkeypatch, edit_config=None, prepared=True):
    """The tiny sim registered, the variant probed (the shared prepared one unless the test's engine differs) and
    sim_definition materialized: (env, instance, partition key)."""
    monkeypatch.setenv("BEYOND_VIBES_SIMS", str(tiny_sim(tmp_path)))
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric"})}, prepared=prepared)
    if edit_config:
        env.config.write_text(edit_config(env.config.read_text()))
    inst = env.instance
    if not prepared:
        assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE,
                           instance=inst)
    assert materialize(["sim_definition"], "hello", instance=inst)
    return env, inst, dg.MultiPartitionKey({"variant": VARIANT, "sim": "hello"})


@pytest.mark.parametrize("tool_mode", ["prompted", "native"])
def test_episode_rows_agree_with_the_record_and_a_rerun_sends_nothing(smol_env, tmp_path, monkeypatch, tool_mode, capsys):
    env, inst, key = ready(smol_env, tmp_path, monkeypatch)
    config = {"ops": {"sim_episodes": {"config": {"tool_mode": tool_mode}}}}
    assert materialize(["sim_episodes"], key, instance=inst, run_config=config)

    (record,) = episode_store(VARIANT, "hello").latest_by_key().values()  # with its trace id (appended after it)
    episode = record["episode"]
    assert episode["stop_reason"] in STOP_REASONS and episode["mode"] == tool_mode
    assert any(s["kind"] == "model" and (s["prompt_tokens"] or 0) > 0 for s in episode["steps"])
    assert episode["wall_s"] >= episode["model_s"] > 0
    wh = WarehouseResource()
    (row,) = wh.query("SELECT * FROM sim_episodes")
    steps = wh.query("SELECT * FROM sim_steps ORDER BY step_index")
    assert row["episode_id"] == record["episode_id"] and row["steps"] == len(steps) == len(episode["steps"])
    assert row["prompt_tokens"] == sum(s["prompt_tokens"] or 0 for s in steps if s["kind"] == "model")
    assert row["completion_tokens"] == sum(s["completion_tokens"] or 0 for s in steps if s["kind"] == "model")
    assert row["criteria_total"] == 2 and row["stop_reason"] == episode["stop_reason"] and row["tool_mode"] == tool_mode
    assert row["isolation"] == "bubblewrap" and row["archetype"] == "research"

    from beyond_vibes_assets.agent.traces import find_traces

    (trace,) = find_traces(f"tags.episode_id = '{record['episode_id']}'")
    assert record["trace_id"] == trace.info.trace_id == row["trace_id"]
    assert trace.info.tags["variant"] == VARIANT and trace.info.tags["sim"] == "hello"
    spans = trace.data.spans
    assert len(spans) == 1 + len(episode["steps"])  # the AGENT root, one span per step
    assert {s.span_type for s in spans} >= {"AGENT", "CHAT_MODEL"}
    model_spans = [s for s in spans if s.span_type == "CHAT_MODEL"]
    assert sum(s.attributes.get("completion_tokens", 0) for s in model_spans) == row["completion_tokens"]

    from beyond_vibes_assets.cli.main import main

    capsys.readouterr()
    assert main(["sims", "show", record["episode_id"][:8]]) == 0
    shown = capsys.readouterr().out
    assert "Read greet.py" in shown and "outcome" in shown and f"{row['criteria_passed']}/2 criteria" in shown
    assert materialize(["curated_dataset", "report"], instance=inst)
    report = (env.home / "reports" / "report.md").read_text()
    if tool_mode == "prompted":  # the canonical series: in the headline's simulations section
        assert "## Simulations" in report and record["episode_id"] in report and row["series"] == "canonical"
    else:  # native tool calls are their own series: stored and labelled, never in the canonical tables
        assert row["series"] == "builtin/native" and not row["canonical"] and record["episode_id"] not in report
    from mlflow.genai import datasets

    from beyond_vibes_assets.agent.traces import DATASET

    records = datasets.get_dataset(name=DATASET).to_df()
    in_dataset = record["episode_id"] in {r["episode_id"] for r in records["inputs"]}
    assert in_dataset == (tool_mode == "prompted")  # the evaluation dataset holds the canonical series only

    assert materialize(["sim_episodes"], key, instance=inst, run_config=config)  # finished episodes are kept
    assert len(episode_store(VARIANT, "hello").latest_by_key()) == 1
    assert wh.query("SELECT count(*) AS n FROM sim_episodes") == [{"n": 1}]


def test_pi_harness_episode_lands_in_the_same_schema(smol_env, tmp_path, monkeypatch):
    """One real pi coding agent episode against the real llama-server. Skipped, with the reason, only where node
    or pi is absent (deploy/install.sh --dev installs pi where npm exists)."""
    from beyond_vibes_assets.agent.pi_harness import missing_reason

    if missing_reason():
        pytest.skip(missing_reason())
    # pi sends a ~1,500-token system prompt: give the one slot room for it
    _, inst, key = ready(smol_env, tmp_path, monkeypatch, lambda text: text.replace("ctx_size: 2048", "ctx_size: 8192")
                           .replace("parallel: 2", "parallel: 1"), prepared=False)
    assert materialize(["sim_episodes"], key, instance=inst, run_config={"ops": {"sim_episodes": {"config": {"harness": "pi"}}}})
    (record,) = episode_store(VARIANT, "hello").latest_by_key().values()
    episode = record["episode"]
    assert record["harness"] == "pi" and episode["mode"] == "pi" and episode["stop_reason"] in STOP_REASONS
    assert any(s["kind"] == "model" for s in episode["steps"]), episode  # pi's events became our steps
    (row,) = WarehouseResource().query("SELECT * FROM sim_episodes")
    steps = WarehouseResource().query("SELECT * FROM sim_steps")
    assert row["harness"] == "pi" and row["steps"] == len(steps) == len(episode["steps"]) and row["trace_id"]
