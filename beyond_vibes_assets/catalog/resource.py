"""The catalog as a resource: models.yaml, the packs and the sims folders, parsed once per run (never at import).

`setup_for_execution` reads both when a run (or a sensor tick) starts; every `variant()`/`pack()` call of
that run reuses the result. Problems are kept, not raised, until something asks for the broken part:
a broken pack fails only its own partitions, a broken models.yaml fails whatever needs a variant, and
`problems()` lists everything for `beyond-vibes validate`.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ..settings import config_path, judges_dir, packs_dir, sims_dir
from .errors import ConfigError, Problem
from .models_config import Catalog, load_catalog
from .packs import Pack, scan_packs
from .rubrics import Rubric, scan_rubrics
from .sims import Sim, scan_sims
from .variants import Variant, variants


class CatalogResource(dg.ConfigurableResource):
    config: str | None = None  # default: BEYOND_VIBES_CONFIG or ./models.yaml
    packs: str | None = None  # default: BEYOND_VIBES_PACKS or the repo's packs/
    sims: str | None = None  # default: BEYOND_VIBES_SIMS or the repo's sims/
    judges: str | None = None  # default: BEYOND_VIBES_JUDGES or the repo's judges/ (rubrics + labels/)

    _catalog: Catalog | ConfigError | None = PrivateAttr(default=None)
    _variants: dict[str, Variant] = PrivateAttr(default_factory=dict)
    _packs: dict[str, Pack] | None = PrivateAttr(default=None)
    _broken_packs: dict[str, ConfigError] = PrivateAttr(default_factory=dict)
    _sims: dict[str, Sim] = PrivateAttr(default_factory=dict)
    _broken_sims: dict[str, ConfigError] = PrivateAttr(default_factory=dict)
    _rubrics: dict[str, Rubric] = PrivateAttr(default_factory=dict)
    _broken_rubrics: dict[str, ConfigError] = PrivateAttr(default_factory=dict)
    _loads: int = PrivateAttr(default=0)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.reload()

    def reload(self) -> None:
        """Parse models.yaml and scan the packs folder now (a run's start, a sensor tick, a CLI command)."""
        try:
            self._catalog = load_catalog(self.config_file())
            self._variants = {v.key: v for v in variants(self._catalog)}
        except ConfigError as exc:
            self._catalog, self._variants = exc, {}
        self._packs, self._broken_packs = scan_packs(self.packs_root())
        self._sims, self._broken_sims = scan_sims(self.sims_root())
        self._rubrics, self._broken_rubrics = scan_rubrics(self.judges_root())
        self._loads += 1

    @property
    def load_count(self) -> int:
        """How often the files were parsed (the once-per-run tests count it)."""
        return self._loads

    def _loaded(self) -> None:
        if self._catalog is None:
            self.reload()

    def config_file(self) -> Path:
        return Path(self.config).resolve() if self.config else config_path()

    def packs_root(self) -> Path:
        return Path(self.packs).resolve() if self.packs else packs_dir()

    def sims_root(self) -> Path:
        return Path(self.sims).resolve() if self.sims else sims_dir()

    def judges_root(self) -> Path:
        return Path(self.judges).resolve() if self.judges else judges_dir()

    def labels_file(self, rubric: str) -> Path:
        return self.judges_root() / "labels" / f"{rubric}.jsonl"

    def all_rubrics(self) -> dict[str, Rubric]:
        return dict(self._parsed("rubrics")[0])

    def rubric_names(self) -> list[str]:
        return self._names("rubrics")

    def rubric(self, name: str) -> Rubric:
        return self._entry("rubrics", name, f"no rubric {name!r} under {self.judges_root()}")

    def all_sims(self) -> dict[str, Sim]:
        return dict(self._parsed("sims")[0])

    def sim_names(self) -> list[str]:
        return self._names("sims")

    def sim(self, name: str) -> Sim:
        return self._entry("sims", name, f"no sim {name!r} under {self.sims_root()}")

    def catalog(self) -> Catalog:
        self._loaded()
        if isinstance(self._catalog, ConfigError):
            raise self._catalog
        assert self._catalog is not None
        return self._catalog

    def variant(self, key: str) -> Variant:
        catalog = self.catalog()
        if key not in self._variants:
            raise KeyError(f"variant {key!r} is not in {catalog.path}; run `beyond-vibes sync` after editing the catalog")
        return self._variants[key]

    def variant_keys(self) -> list[str]:
        self.catalog()
        return list(self._variants)

    def all_packs(self) -> dict[str, Pack]:
        """Valid packs only; `pack_names()` includes broken ones (they still are task partitions)."""
        return dict(self._parsed("packs")[0])

    def pack_names(self) -> list[str]:
        return self._names("packs")

    def pack(self, name: str) -> Pack:
        return self._entry("packs", name,
                           f"no pack {name!r} under {self.packs_root()}; run `beyond-vibes sync` after adding one")

    def _parsed(self, kind: str) -> tuple[dict, dict[str, ConfigError]]:
        """(valid, broken) entries of one folder ('packs', 'sims', 'rubrics'), parsed once per run."""
        self._loaded()
        return getattr(self, f"_{kind}") or {}, getattr(self, f"_broken_{kind}")

    def _names(self, kind: str) -> list[str]:
        """Valid and broken entries alike: a broken one still is a partition, and fails only there."""
        good, broken = self._parsed(kind)
        return sorted({*good, *broken})

    def _entry(self, kind: str, name: str, missing: str):
        """A broken entry raises its own problems; an unknown name raises KeyError saying what to do."""
        good, broken = self._parsed(kind)
        if name in broken:
            raise broken[name]
        if name not in good:
            raise KeyError(missing)
        return good[name]

    def problems(self) -> list[Problem]:
        """Every problem in models.yaml, every pack and every sim, for `validate`."""
        self._loaded()
        found = list(self._catalog.problems) if isinstance(self._catalog, ConfigError) else []
        broken = [*self._broken_packs.values(), *self._broken_sims.values(), *self._broken_rubrics.values()]
        return found + [p for exc in broken for p in exc.problems] + self._demo_problems()

    def _demo_problems(self) -> list[Problem]:
        """models.yaml's `demo.packs` must name packs of the packs folder."""
        if not isinstance(self._catalog, Catalog):
            return []
        known = self._names("packs")
        return [Problem(str(self.config_file()), "demo", "packs", f"no pack {name!r} under {self.packs_root()}",
                        f"name packs of that folder ({', '.join(known)}) or remove demo.packs to run them all")
                for name in self._catalog.demo.packs or [] if name not in known]

    def demo_pack_names(self, full: bool) -> list[str]:
        """The packs `demo` runs: models.yaml's `demo.packs` (default every pack); --full: every pack."""
        names = self.pack_names()
        chosen = None if full else self.catalog().demo.packs
        return [n for n in names if chosen is None or n in chosen]
