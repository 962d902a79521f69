"""Keep the dynamic partitions equal to the catalog: add what is new, remove and report what is gone."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from partitions import SIMS, TASKS, VARIANTS

from .catalog.resource import CatalogResource

DIMENSIONS = {"variant": VARIANTS, "task": TASKS, "sim": SIMS}
GONE = {"variant": "no longer in the catalog", "task": "pack folder gone", "sim": "sim folder gone"}


@dataclass
class SyncPlan:
    add_variants: list[str] = field(default_factory=list)
    remove_variants: list[str] = field(default_factory=list)
    add_tasks: list[str] = field(default_factory=list)
    remove_tasks: list[str] = field(default_factory=list)
    add_sims: list[str] = field(default_factory=list)
    remove_sims: list[str] = field(default_factory=list)

    def _changes(self) -> list[tuple[str, list[str], list[str]]]:
        return [("variant", self.add_variants, self.remove_variants), ("task", self.add_tasks, self.remove_tasks),
                ("sim", self.add_sims, self.remove_sims)]

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


def plan_sync(wanted_variants: list[str], wanted_tasks: list[str], have_variants: list[str], have_tasks: list[str],
              wanted_sims: list[str] = (), have_sims: list[str] = ()) -> SyncPlan:
    def diff(want, have):
        return [k for k in want if k not in have], sorted(set(have) - set(want))

    (av, rv), (at, rt), (asim, rs) = diff(wanted_variants, have_variants), diff(wanted_tasks, have_tasks), \
        diff(list(wanted_sims), list(have_sims))
    return SyncPlan(av, rv, at, rt, asim, rs)


def wanted(catalog_resource: CatalogResource) -> tuple[list[str], list[str], list[str]]:
    """Variants of a valid models.yaml, and every pack and sim folder (a broken one is a partition that fails alone)."""
    return catalog_resource.variant_keys(), catalog_resource.pack_names(), catalog_resource.sim_names()


def current(instance: dg.DagsterInstance) -> tuple[list[str], list[str], list[str]]:
    return tuple(instance.get_dynamic_partitions(dim) for dim in DIMENSIONS)  # type: ignore[return-value]


def sync_instance(instance: dg.DagsterInstance, catalog_resource: CatalogResource) -> SyncPlan:
    (want_v, want_t, want_s), (have_v, have_t, have_s) = wanted(catalog_resource), current(instance)
    plan = plan_sync(want_v, want_t, have_v, have_t, want_s, have_s)
    for dim, add, remove in plan._changes():
        if add:
            instance.add_dynamic_partitions(dim, add)
        for key in remove:
            instance.delete_dynamic_partition(dim, key)
    return plan
