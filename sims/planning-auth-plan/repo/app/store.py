"""Memos live in one JSON file next to the server."""

import json
import threading
from pathlib import Path


class MemoStore:
    def __init__(self, path: str = "memos.json"):
        self.path = Path(path)
        self._lock = threading.Lock()

    def load_all(self) -> list[dict]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))

    def save_memo(self, author: str, text: str) -> dict:
        with self._lock:
            memos = self.load_all()
            memo = {"id": len(memos) + 1, "author": author, "text": text}
            memos.append(memo)
            self.path.write_text(json.dumps(memos), encoding="utf-8")
            return memo
