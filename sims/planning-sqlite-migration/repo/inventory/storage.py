"""All items in one JSON object: {sku: {"name": str, "quantity": int}}."""

import json
from pathlib import Path


def load_items(path: str = "stock.json") -> dict[str, dict]:
    file = Path(path)
    return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


def save_items(items: dict[str, dict], path: str = "stock.json") -> None:
    Path(path).write_text(json.dumps(items, indent=1, sort_keys=True), encoding="utf-8")
