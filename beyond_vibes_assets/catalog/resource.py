"""The catalog as a resource: models.yaml and the packs folder, read when a run needs them (never at import)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ..settings import config_path, packs_dir
from .models_config import Catalog, load_catalog
from .packs import Pack, discover_packs
from .variants import Variant, variant_by_key


class CatalogResource(dg.ConfigurableResource):
    config: str | None = None  # default: BEYOND_VIBES_CONFIG or ./models.yaml
    packs: str | None = None  # default: BEYOND_VIBES_PACKS or the repo's packs/

    def config_file(self) -> Path:
        return Path(self.config).resolve() if self.config else config_path()

    def packs_root(self) -> Path:
        return Path(self.packs).resolve() if self.packs else packs_dir()

    def catalog(self) -> Catalog:
        return load_catalog(self.config_file())

    def variant(self, key: str) -> Variant:
        return variant_by_key(self.catalog(), key)

    def all_packs(self) -> dict[str, Pack]:
        return discover_packs(self.packs_root())

    def pack(self, name: str) -> Pack:
        packs = self.all_packs()
        if name not in packs:
            raise KeyError(f"no pack {name!r} under {self.packs_root()}; run `beyond-vibes sync` after adding one")
        return packs[name]
