"""Compiled judge programs in the object store: `judges/programs/<rubric>/<judge>/<compile key>.json` (the program
state) beside `.manifest.json` (its hash and agreement figures). The compile key covers everything a compilation
depends on, so an unchanged rubric, label file, judge and optimizer reuse the stored program with no judge call.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from resources.object_store import ObjectStoreResource

# Bump when the program's signature, the evidence budget or the compile procedure changes.
PROGRAM_VERSION = "2"  # 2: labels split by sample (artefact), not by label id


def compile_key(rubric_fingerprint: str, labels_hash: str, judge_identity: str, optimizer: str, max_demos: int,
                evidence_chars: int) -> str:
    raw = json.dumps([PROGRAM_VERSION, rubric_fingerprint, labels_hash, judge_identity, optimizer, max_demos,
                      evidence_chars])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _prefix(rubric: str, judge: str, key: str) -> str:
    return f"judges/programs/{rubric}/{judge}/{key}"


def program_object_key(rubric: str, judge: str, key: str) -> str:
    return _prefix(rubric, judge, key) + ".json"


def load_manifest(store: ObjectStoreResource, rubric: str, judge: str, key: str) -> dict[str, Any] | None:
    data = store.get_bytes(_prefix(rubric, judge, key) + ".manifest.json")
    if data is None or store.get_bytes(program_object_key(rubric, judge, key)) is None:
        return None
    return json.loads(data)


def save(store: ObjectStoreResource, rubric: str, judge: str, key: str, program: bytes, manifest: dict[str, Any]) -> None:
    store.put_bytes(program_object_key(rubric, judge, key), program)
    save_manifest(store, rubric, judge, key, manifest)


def save_manifest(store: ObjectStoreResource, rubric: str, judge: str, key: str, manifest: dict[str, Any]) -> None:
    """The figures beside a stored program (rewritten alone when a later run adds a comparison)."""
    store.put_bytes(_prefix(rubric, judge, key) + ".manifest.json", json.dumps(manifest, sort_keys=True, default=str).encode())


def labels_hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "none"
