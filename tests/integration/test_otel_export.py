"""Episode traces exported over OTLP as well as to MLflow (`pip install -e '.[otel]'`, then MLflow's dual export):
a real OTLP/HTTP receiver on 127.0.0.1 (a small server that accepts what a collector accepts) gets the episode's
spans while the trace still lands in the MLflow store. Run in a subprocess: MLflow builds its tracer once per
process, from the environment it finds."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.integration

SCRIPT = """
import json, sys
from datetime import datetime, timezone
from beyond_vibes_assets.agent.traces import find_traces, log_episode
step = {"index": 0, "kind": "model", "started_s": 0.0, "duration_s": 0.1, "reply": "hi", "tool_calls": None,
        "prompt_tokens": 3, "completion_tokens": 1, "ttft_s": 0.05, "decode_tps": 10.0, "server_timings": None,
        "failure_mode": None, "format_error": None, "messages_sent": 1}
record = {"sim": "s", "prompt": "p", "tool_mode": "prompted", "isolation": "none", "answer": "hi",
          "started_at": datetime.now(timezone.utc).isoformat(),
          "episode": {"steps": [step], "stop_reason": "finished", "wall_s": 0.2,
                      "messages": [{"role": "user", "content": "p"}]}}
trace_id = log_episode(record, {"variant": "m~Q4_1~cpu", "episode_id": "otel-1"})
import mlflow
mlflow.flush_trace_async_logging() if hasattr(mlflow, "flush_trace_async_logging") else None
from opentelemetry import trace
provider = trace.get_tracer_provider()
getattr(provider, "force_flush", lambda *a: None)()
print(json.dumps({"trace_id": trace_id, "stored": len(find_traces("tags.episode_id = 'otel-1'"))}))
"""


def test_episode_spans_reach_an_otlp_receiver_and_mlflow(home, tmp_path):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason="the otel extra: pip install -e '.[otel]'")
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append((self.path, self.headers.get("content-type"), body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BEYOND_VIBES_HOME": str(home),
               "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT": "true", "OTEL_SERVICE_NAME": "beyond-vibes",
               "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}/v1/traces",
               "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["stored"] == 1  # still in MLflow
    posts = [r for r in received if r[0] == "/v1/traces"]
    assert posts and all(ct == "application/x-protobuf" for _, ct, _ in posts)
    payload = b"".join(body for _, _, body in posts)
    assert b"model call 0" in payload and b"episode s" in payload  # the span names travel in the protobuf
