"""Variant keys: model~quant~engine in one dynamic dimension.

Dagster allows two partition dimensions, so the three axes are folded into one key. '~' because '|'
separates multi-partition dimensions and '/' makes nested paths. API models use quant 'api' and
their provider as the engine.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SEP = "~"
API_QUANT = "api"
_SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")


class VariantKey(NamedTuple):
    model: str
    quant: str
    engine: str

    @property
    def key(self) -> str:
        return SEP.join(self)

    @property
    def weights_key(self) -> str:
        return make_weights_key(self.model, self.quant)

    @property
    def is_api(self) -> bool:
        return self.quant == API_QUANT


def slugify(text: str) -> str:
    """Make a HF repo id or free text safe for a partition key ('HuggingFaceTB/SmolLM2' -> 'HuggingFaceTB--SmolLM2')."""
    return _SLUG_RE.sub("-", text.replace("/", "--")).strip("-")


def make_weights_key(model: str, quant: str) -> str:
    """Weights do not depend on the engine: one stored file per model~quant, shared by its engines."""
    return f"{model}{SEP}{quant}"


def make_variant_key(model: str, quant: str, engine: str) -> str:
    for part, label in ((model, "model"), (quant, "quant"), (engine, "engine")):
        if not part or SEP in part or "|" in part or "/" in part:
            raise ValueError(f"{label} name {part!r} cannot be part of a variant key (no '~', '|', '/')")
    return VariantKey(model, quant, engine).key


def parse_variant_key(key: str) -> VariantKey:
    parts = key.split(SEP)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"variant key {key!r} is not model~quant~engine")
    return VariantKey(*parts)


def split_multi_key(partition_key: object, second: str = "task") -> tuple[str, str]:
    """(variant, task or sim) from a MultiPartitionKey or its string form, through Dagster's own key parser."""
    from .definitions import VARIANT_LMEVAL, VARIANT_SIM, VARIANT_TASK

    keys_by_dim = getattr(partition_key, "keys_by_dimension", None)
    if not keys_by_dim:
        definition = {"sim": VARIANT_SIM, "lmeval": VARIANT_LMEVAL}.get(second, VARIANT_TASK)
        keys_by_dim = definition.get_partition_key_from_str(str(partition_key)).keys_by_dimension
    return keys_by_dim["variant"], keys_by_dim[second]
