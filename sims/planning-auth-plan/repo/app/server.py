"""HTTP plumbing: GET /memos lists, POST /memos creates. Anyone on the network can do both today."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .handlers import create_memo, list_memos
from .store import MemoStore

STORE = MemoStore()


class MemoHandler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        if self.path == "/memos":
            self._reply(*list_memos(STORE))
        else:
            self._reply(404, '{"error": "not found"}')

    def do_POST(self) -> None:
        if self.path == "/memos":
            length = int(self.headers.get("Content-Length", 0))
            self._reply(*create_memo(STORE, self.rfile.read(length)))
        else:
            self._reply(404, '{"error": "not found"}')


def make_server(host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), MemoHandler)


if __name__ == "__main__":
    make_server().serve_forever()
