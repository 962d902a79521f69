"""Shared fixtures: an isolated BEYOND_VIBES_HOME per test and helpers for real servers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "bv_home"
    monkeypatch.setenv("BEYOND_VIBES_HOME", str(path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("BEYOND_VIBES_CONFIG", raising=False)
    monkeypatch.delenv("BEYOND_VIBES_PACKS", raising=False)
    return path


@pytest.fixture()
def write_config(tmp_path):
    def write(text: str, name: str = "models.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def make_pack(root: Path, name: str, items: list[dict], **meta) -> Path:
    import json

    import yaml

    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(yaml.safe_dump({"version": "1", **meta}))
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    return folder


def llama_server_pids() -> set[int]:
    import psutil

    out = set()
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "llama-server" or any("llama-server" in c for c in (proc.info["cmdline"] or [])[:1]):
                out.add(proc.pid)
        except psutil.Error:
            continue
    return out


def have_engine() -> bool:
    return shutil.which("cmake") is not None or bool(os.environ.get("BEYOND_VIBES_CACHE"))
