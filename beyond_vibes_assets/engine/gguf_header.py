"""A GGUF header read as a stream: the metadata's scalar values and every tensor's extent, without building the
arrays (a tokenizer's 49k-string vocabulary) the way `gguf.GGUFReader` does — that took ~4 s per file and ran on
every weights materialization; this takes milliseconds. Layout: the GGUF spec (magic, version, counts, key/values,
tensor infos, data aligned to `general.alignment`); tests/unit/test_weights.py cross-checks it with GGUFReader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

GGUF_MAGIC = b"GGUF"
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class TensorExtent:
    name: str
    n_elements: int
    data_offset: int  # absolute, in the file
    n_bytes: int


@dataclass(frozen=True)
class GGUFHeader:
    fields: dict[str, Any]  # scalars and strings; arrays as None (skipped, not read)
    tensors: list[TensorExtent]


class _Stream:
    def __init__(self, fh: BinaryIO, order: str):
        self.fh, self.order = fh, order

    def take(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise EOFError(f"header ends early (wanted {n} bytes at offset {self.fh.tell() - len(data)})")
        return data

    def scalar(self, code: str) -> Any:
        return struct.unpack(self.order + code, self.take(struct.calcsize(code)))[0]

    def string(self) -> str:
        return self.take(self.scalar("Q")).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        self.fh.seek(self.scalar("Q"), 1)

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item, count = self.scalar("I"), self.scalar("Q")
            if item in _SCALARS:
                self.fh.seek(struct.calcsize(_SCALARS[item]) * count, 1)
            else:
                for _ in range(count):
                    self.value_skipped(item)
            return None
        raise ValueError(f"unknown GGUF value type {kind}")

    def value_skipped(self, kind: int) -> None:
        if kind == _STRING:
            self.skip_string()
        else:
            self.value(kind)


def read_header(path: Path) -> GGUFHeader:
    """Raises ValueError/EOFError for a file that is not a whole GGUF header (the caller says what to do)."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    with open(path, "rb", buffering=1 << 20) as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ValueError("bad magic")
        raw_version = fh.read(4)
        order = "<" if struct.unpack("<I", raw_version)[0] & 0xFFFF else ">"  # a big-endian file reads as v << 16
        stream = _Stream(fh, order)
        version = struct.unpack(order + "I", raw_version)[0]
        if version < 2:
            raise ValueError(f"GGUF version {version} is not supported (2 or later)")
        n_tensors, n_fields = stream.scalar("Q"), stream.scalar("Q")
        fields = {}
        for _ in range(n_fields):
            key = stream.string()
            fields[key] = stream.value(stream.scalar("I"))
        infos = []
        for _ in range(n_tensors):
            name = stream.string()
            dims = [stream.scalar("Q") for _ in range(stream.scalar("I"))]
            kind, offset = stream.scalar("I"), stream.scalar("Q")
            infos.append((name, dims, kind, offset))
        alignment = int(fields.get("general.alignment") or 32)
        data_start = -(-fh.tell() // alignment) * alignment
    tensors = []
    for name, dims, kind, offset in infos:
        n_elements = 1
        for d in dims:
            n_elements *= d
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        tensors.append(TensorExtent(name, n_elements, data_start + offset, n_elements // block * size))
    return GGUFHeader(fields, tensors)
