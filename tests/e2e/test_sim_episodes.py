"""Real agent episodes against the real llama-server (SmolLM2, built-in harness, both tool modes), in the real
sandbox: the episode record, the warehouse rows and the resume rule agree."""

import dagster as dg
import pytest
import yaml

from beyond_vibes_assets.agent.episodes import episode_store
from beyond_vibes_assets.agent.loop import STOP_REASONS
from beyond_vibes_assets.cli import materialize
from resources.warehouse import WarehouseResource
from tests.conftest import LIGHT_PROBE, MATH_ITEMS

pytestmark = pytest.mark.e2e
VARIANT = "smol~Q4_1~cpu"


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


@pytest.mark.parametrize("tool_mode", ["prompted", "native"])
def test_episode_rows_agree_with_the_record_and_a_rerun_sends_nothing(smol_env, tmp_path, monkeypatch, tool_mode, capsys):
    monkeypatch.setenv("BEYOND_VIBES_SIMS", str(tiny_sim(tmp_path)))
    env = smol_env(packs={"math": (MATH_ITEMS, {"verifier": "numeric"})})
    inst = env.instance
    assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE, instance=inst)
    assert materialize(["sim_definition"], "hello", instance=inst)
    key = dg.MultiPartitionKey({"variant": VARIANT, "sim": "hello"})
    config = {"ops": {"sim_episodes": {"config": {"tool_mode": tool_mode}}}}
    assert materialize(["sim_episodes"], key, instance=inst, run_config=config)

    (record,) = episode_store(VARIANT, "hello").records()
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

    from beyond_vibes_assets.cli import main

    capsys.readouterr()
    assert main(["sims", "show", record["episode_id"][:8]]) == 0
    shown = capsys.readouterr().out
    assert "Read greet.py" in shown and "outcome" in shown and f"{row['criteria_passed']}/2 criteria" in shown
    assert materialize(["curated_dataset", "report"], instance=inst)
    report = (env.home / "reports" / "report.md").read_text()
    assert "## Simulations" in report and record["episode_id"] in report

    assert materialize(["sim_episodes"], key, instance=inst, run_config=config)  # finished episodes are kept
    assert len(episode_store(VARIANT, "hello").records()) == 1
    assert wh.query("SELECT count(*) AS n FROM sim_episodes") == [{"n": 1}]
