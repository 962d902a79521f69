"""A scripted OpenAI-compatible endpoint on 127.0.0.1: a real HTTP server that streams chat completions the way an
API (or llama-server) does, answering from a script instead of a model, so asset bodies run in seconds behind the
platform's own client classes. Mock by necessity (no model runs here); the engine itself is the e2e tier's.

The script is a function of the request body returning the reply text, a dict {"text", "delay_s", "status",
"retry_after", "loop"}; `requests` records every body it answered."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[dict[str, Any]], "str | dict[str, Any]"]


def last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class ScriptedEndpoint:
    def __init__(self, script: Script, props: dict[str, Any] | None = None):
        self.script, self.requests = script, []
        self.props = props  # what GET /props answers, as a llama-server would (None: 404, as an API)
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return

            def do_GET(self):  # noqa: N802
                data = json.dumps(endpoint.props).encode() if endpoint.props and self.path == "/props" else None
                self.send_response(200 if data else 404)
                self.send_header("content-length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with endpoint._lock:
                    endpoint.requests.append(body)
                reply = endpoint.script(body)
                reply = {"text": reply} if isinstance(reply, str) else reply
                if reply.get("delay_s"):
                    time.sleep(reply["delay_s"])
                if reply.get("status", 200) != 200:
                    self.send_response(reply["status"])
                    if "retry_after" in reply:  # what an API says with a 429/503; clients that honour it wait that long
                        self.send_header("retry-after", str(reply["retry_after"]))
                    self.end_headers()
                    self.wfile.write(b'{"error": "scripted failure"}')
                    return
                usage = {"prompt_tokens": 20, "completion_tokens": max(1, len(reply["text"]) // 4)}
                if not body.get("stream"):  # a plain completion (DSPy / litellm judges ask this way)
                    data = json.dumps({"id": "scripted", "object": "chat.completion", "created": 0,
                                       "model": body.get("model"), "usage": {**usage, "total_tokens": 20},
                                       "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                           "role": "assistant", "content": reply["text"]}}]}).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": reply["text"]}}]},
                          {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                          {"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": max(1, len(reply["text"]) // 4)}}]
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def count(self, model: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if model is None or r.get("model") == model)

    @contextlib.contextmanager
    def running(self) -> Iterator[ScriptedEndpoint]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def api_models(url: str, names: list[str]) -> str:
    """models.yaml with one OpenAI-compatible API model per name, all at the scripted endpoint."""
    lines = ["engines: []", "models:"]
    for name in names:
        lines += [f"  - name: {name}", "    provider: openai_compatible", f"    base_url: {url}",
                  f"    model_id: {name}", "    max_concurrency: 4"]
    return "\n".join(lines) + "\n"
