"""Prepare one model~quant GGUF: from the hub, an offline source, or derived with llama-quantize.

The file lands in the object store under a content address; its sha256 is the asset's DataVersion,
so a changed file makes downstream stale and an unchanged one does not. Corrupt or truncated files
are refused before anything is stored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..catalog.models_config import LocalModel
from .gguf_header import GGUF_MAGIC, read_header


class WeightsError(RuntimeError):
    pass


@dataclass
class WeightsManifest:
    weights_key: str
    model: str
    quant: str
    origin: str  # hub | package | path | derived
    sha256: str
    size_bytes: int
    object_key: str
    object_uri: str
    revision: str | None = None
    derived_from: str | None = None
    source_sha256: str | None = None
    engine_build: str | None = None
    source_file: str | None = None
    architecture: str | None = None
    parameters: int | None = None
    file_type: str | None = None
    gguf_name: str | None = None
    context_length: int | None = None
    prepared_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def warehouse_row(self) -> dict[str, Any]:
        """The `weights` table row (sql/schema/004_weights.sql); the full manifest stays beside the object."""
        fields = ("weights_key", "model", "quant", "origin", "derived_from", "revision", "sha256", "size_bytes",
                  "architecture", "parameters", "file_type", "object_uri")
        return {**{f: getattr(self, f) for f in fields}, "created_at": self.prepared_at}


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def gguf_facts(path: Path) -> dict[str, Any]:
    """Header facts; raises WeightsError for anything that is not a complete GGUF file."""
    path = Path(path)
    with open(path, "rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise WeightsError(f"{path} is not a GGUF file (bad magic); re-download it or fix the source")
    try:
        header = read_header(path)
    except Exception as exc:  # a header cut short, an unknown type: not a file llama.cpp can load
        raise WeightsError(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}); delete it and re-download") from exc
    size = path.stat().st_size
    for tensor in header.tensors:
        if tensor.data_offset + tensor.n_bytes > size:
            raise WeightsError(f"{path} is truncated: tensor {tensor.name} ends past the end of the file")

    def field(name: str) -> Any:
        return header.fields.get(name)

    arch = field("general.architecture")
    file_type = field("general.file_type")
    try:
        from gguf import LlamaFileType

        file_type_name = LlamaFileType(file_type).name.removeprefix("MOSTLY_") if file_type is not None else None
    except (ImportError, ValueError):
        file_type_name = str(file_type) if file_type is not None else None
    return {
        "architecture": arch,
        "parameters": sum(t.n_elements for t in header.tensors),
        "file_type": file_type_name,
        "gguf_name": field("general.name"),
        "context_length": field(f"{arch}.context_length") if arch else None,
        "tensors": len(header.tensors),
    }


def packaged_file(package: str, file: str) -> Path:
    """A GGUF inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"package {package!r} is not installed; install it (see README) or change 'source'")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / file
        if candidate.exists():
            return candidate
    raise WeightsError(f"package {package!r} has no file {file!r}")


def quantize(quantize_bin: str, source: Path, target: Path, quant: str, threads: int | None = None,
             log: Callable[[str], None] = print) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    cmd = [quantize_bin, "--allow-requantize", str(source), str(tmp), quant]
    if threads:
        cmd.append(str(threads))
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise WeightsError(f"llama-quantize failed for {quant}: {(out.stdout + out.stderr)[-1500:]}")
    tmp.replace(target)
    log(f"derived {quant} from {source.name} in {time.perf_counter() - started:.1f}s")


def object_key(model: str, quant: str, sha: str) -> str:
    return f"weights/{model}/{quant}/{sha[:16]}.gguf"


def manifest_key(model: str, quant: str) -> str:
    return f"weights/{model}/{quant}/manifest.json"


def load_manifest(store: Any, model: str, quant: str) -> WeightsManifest | None:
    raw = store.get_bytes(manifest_key(model, quant))
    return WeightsManifest(**json.loads(raw)) if raw else None


def origin_of(model: LocalModel, quant: str) -> str:
    if quant in model.derive:
        return "derived"
    source = model.source
    if source and (source.quant or model.quant_tags[0]) == quant:
        return "package" if source.package else "path"
    return "hub"
