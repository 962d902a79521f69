"""Request handling, separate from the HTTP plumbing so it can be tested without a socket."""

import json

from .store import MemoStore


def list_memos(store: MemoStore) -> tuple[int, str]:
    return 200, json.dumps(store.load_all())


def create_memo(store: MemoStore, body: bytes) -> tuple[int, str]:
    try:
        data = json.loads(body or b"{}")
        memo = store.save_memo(str(data["author"]), str(data["text"]))
    except (ValueError, KeyError):
        return 400, json.dumps({"error": "expected JSON with author and text"})
    return 201, json.dumps(memo)
