"""Notes live in one JSON file: a list of {"id": int, "text": str}."""

import json
from pathlib import Path


class NoteStore:
    def __init__(self, path: str):
        self.path = Path(path)

    def load_all(self) -> list[dict]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))

    def add(self, text: str) -> dict:
        notes = self.load_all()
        note = {"id": max((n["id"] for n in notes), default=0) + 1, "text": text}
        notes.append(note)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(notes, indent=1), encoding="utf-8")
        return note
