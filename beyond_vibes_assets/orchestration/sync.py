"""Keep the dynamic partitions equal to the catalog: add what is new, remove and report what is gone."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from partitions import LMEVAL_TASKS, RUBRICS, SIMS, TASKS, VARIANTS

from ..catalog.errors import ConfigError
from ..catalog.resource import CatalogResource

DIMENSIONS = {"variant": VARIANTS, "task": TASKS, "sim": SIMS, "lmeval": LMEVAL_TASKS, "rubric": RUBRICS}
GONE = {"variant": "no longer in the catalog", "task": "pack folder gone", "sim": "sim folder gone",
        "lmeval": "no longer in models.yaml's lm_eval section", "rubric": "rubric file gone"}


@dataclass
class SyncPlan:
    add: dict[str, list[str]] = field(default_factory=dict)
    remove: dict[str, list[str]] = field(default_factory=dict)

    def _changes(self) -> list[tuple[str, list[str], list[str]]]:
        return [(dim, self.add.get(dim, []), self.remove.get(dim, [])) for dim in DIMENSIONS]

    @property
    def empty(self) -> bool:
        return not any(add or remove for _, add, remove in self._changes())

    def lines(self) -> list[str]:
        out = [f"+ {dim} {k}" for dim, add, _ in self._changes() for k in add]
        out += [f"- {dim} {k} ({GONE[dim]}; its history stays in the warehouse)" for dim, _, rm in self._changes() for k in rm]
        return out

    def requests(self) -> list:
        adds = [DIMENSIONS[dim].build_add_request(add) for dim, add, _ in self._changes() if add]
        return adds + [DIMENSIONS[dim].build_delete_request(rm) for dim, _, rm in self._changes() if rm]

    # the names the CLI and tests read
    @property
    def add_variants(self) -> list[str]:
        return self.add.get("variant", [])

    @property
    def remove_variants(self) -> list[str]:
        return self.remove.get("variant", [])

    @property
    def add_tasks(self) -> list[str]:
        return self.add.get("task", [])

    @property
    def remove_tasks(self) -> list[str]:
        return self.remove.get("task", [])


def sync_plan(want: dict[str, list[str]], have: dict[str, list[str]]) -> SyncPlan:
    """Per dimension: keys to add (in catalog order) and keys to remove (sorted). A dimension missing from
    `want` (its part of the catalog could not be read) is left as it is."""
    plan = SyncPlan()
    for dim in DIMENSIONS:
        if dim in want:
            plan.add[dim] = [k for k in want[dim] if k not in have.get(dim, [])]
            plan.remove[dim] = sorted(set(have.get(dim, [])) - set(want[dim]))
    return plan


def plan_sync(wanted_variants: list[str], wanted_tasks: list[str], have_variants: list[str], have_tasks: list[str],
              wanted_sims: list[str] = (), have_sims: list[str] = ()) -> SyncPlan:
    return sync_plan({"variant": list(wanted_variants), "task": list(wanted_tasks), "sim": list(wanted_sims)},
                     {"variant": list(have_variants), "task": list(have_tasks), "sim": list(have_sims)})


def wanted(catalog_resource: CatalogResource) -> dict[str, list[str]]:
    """Variants and lm-eval tasks of a valid models.yaml, every pack and sim folder (a broken one is a partition
    that fails alone). Raises ConfigError when models.yaml is invalid."""
    catalog = catalog_resource.catalog()
    return {"variant": catalog_resource.variant_keys(), "task": catalog_resource.pack_names(),
            "sim": catalog_resource.sim_names(), "lmeval": [t.name for t in catalog.lm_eval.tasks],
            "rubric": catalog_resource.rubric_names()}


def current(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    return {dim: list(instance.get_dynamic_partitions(dim)) for dim in DIMENSIONS}


def sync_instance(instance: dg.DagsterInstance, catalog_resource: CatalogResource) -> SyncPlan:
    plan = sync_plan(wanted(catalog_resource), current(instance))
    for dim, add, remove in plan._changes():  # noqa: SLF001 - our own class
        if add:
            instance.add_dynamic_partitions(dim, add)
        for key in remove:
            instance.delete_dynamic_partition(dim, key)
    return plan


__all__ = ["ConfigError", "SyncPlan", "current", "plan_sync", "sync_instance", "sync_plan", "wanted"]
