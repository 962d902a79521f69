"""What the MLflow UI reads, through a real `mlflow server` on 127.0.0.1 (the REST route its trace view calls,
`/ajax-api/3.0/mlflow/traces/get`): an episode's CHAT_MODEL spans carry their messages and MLflow's token usage, and
a pack sample is a trace with its messages, reply, usage and verdict tag."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import httpx
import pytest

from beyond_vibes_assets.agent.traces import log_episode, mlflow_environment, tracking_uri
from beyond_vibes_assets.families.pack_traces import log_pack_samples
from resources.llama_server import free_port
from tests.unit.test_agent_loop import act, episode

pytestmark = pytest.mark.integration

ROW = {"variant": "smol~Q4_1~cpu", "task": "math", "sample_id": "add", "cache_key": "k-add", "passed": False,
       "failure_mode": None, "verdict_reason": "expected 4, got 5", "verifier": "numeric", "model": "smol",
       "quant": "Q4_1", "engine": "cpu", "created_at": "2026-11-30T15:00:00+00:00", "latency_s": 0.4,
       "prompt_text": json.dumps([{"role": "user", "content": "What is 2 + 2?"}]), "response_text": "5",
       "prompt_tokens": 12, "completion_tokens": 1, "ttft_s": 0.1, "finish_reason": "stop"}


@pytest.fixture()
def mlflow_ui(home):
    """`mlflow server` as `beyond-vibes mlflow` starts it (its environment too)."""
    port = free_port()
    mlflow_environment()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri(),
                               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("mlflow server did not start")
        yield base
    finally:
        # the whole session: the server's job consumers too (SIGTERM to the server alone left them to linger ~8 s)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def get_trace(base: str, trace_id: str) -> str:
    response = httpx.get(f"{base}/ajax-api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=30)
    response.raise_for_status()
    return response.text


def test_the_ui_shows_an_episode_s_messages_and_tokens_and_a_pack_sample_s_trace(mlflow_ui, home, tmp_path):
    ep, _ = episode(tmp_path, [act("read_file", path="a.txt"), act("finish", answer="hello")])
    record = {"sim": "s", "prompt": "task", "tool_mode": "prompted", "isolation": "bubblewrap", "answer": ep.answer,
              "started_at": datetime.now(timezone.utc).isoformat(), "episode": ep.to_dict()}
    episode_trace = log_episode(record, {"variant": "smol~Q4_1~cpu", "episode_id": "e1"})
    assert log_pack_samples([ROW]) == {"written": 1, "updated": 0}
    import mlflow

    experiment = mlflow.get_experiment_by_name("beyond-vibes-pack-math").experiment_id
    (sample,) = mlflow.search_traces(locations=[experiment], return_type="list")

    shown = get_trace(mlflow_ui, episode_trace)
    assert '"mlflow.spanType"' in shown and "CHAT_MODEL" in shown
    assert "Result of read_file" in shown  # the second model call's messages: what the chat view renders
    assert "mlflow.chat.tokenUsage" in shown and "input_tokens" in shown  # the Tokens column

    shown = get_trace(mlflow_ui, sample.info.trace_id)
    assert "What is 2 + 2?" in shown and "expected 4, got 5" in shown  # the messages and the verdict's reason
    assert "mlflow.chat.tokenUsage" in shown and '\\"input_tokens\\": 12' in shown
