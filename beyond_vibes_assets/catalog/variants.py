"""Expand the catalog into variants: local model x quant x engine, plus one per API model."""

from __future__ import annotations

from dataclasses import dataclass

from partitions.keys import API_QUANT, make_variant_key, make_weights_key

from .models_config import ApiModel, Catalog, EngineConfig, LocalModel


@dataclass(frozen=True)
class Variant:
    key: str
    model: LocalModel | ApiModel
    quant: str
    engine: EngineConfig | None  # None for API models

    @property
    def is_api(self) -> bool:
        return isinstance(self.model, ApiModel)

    @property
    def engine_name(self) -> str:
        return self.engine.name if self.engine else self.model.provider  # type: ignore[union-attr]

    @property
    def weights_key(self) -> str:
        return make_weights_key(self.model.name, self.quant)


def variants(catalog: Catalog) -> list[Variant]:
    out: list[Variant] = []
    for model in catalog.models:
        if isinstance(model, ApiModel):
            out.append(Variant(make_variant_key(model.name, API_QUANT, model.provider), model, API_QUANT, None))
            continue
        refs = model.engines if model.engines is not None else [e.name for e in catalog.engines]
        for ref in refs:
            name, only = (ref, None) if isinstance(ref, str) else (ref.name, ref.quants)
            engine = catalog.engine(name)
            for quant in model.quant_tags:
                if only is None or quant in only:
                    out.append(Variant(make_variant_key(model.name, quant, name), model, quant, engine))
    return out


def variant_by_key(catalog: Catalog, key: str) -> Variant:
    for v in variants(catalog):
        if v.key == key:
            return v
    raise KeyError(f"variant {key!r} is not in {catalog.path}; run `beyond-vibes sync` after editing the catalog")


