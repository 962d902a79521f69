"""Keep the dynamic partitions equal to the catalog: add what is new, remove and report what is gone."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from partitions import TASKS, VARIANTS

from .catalog.resource import CatalogResource


@dataclass
class SyncPlan:
    add_variants: list[str] = field(default_factory=list)
    remove_variants: list[str] = field(default_factory=list)
    add_tasks: list[str] = field(default_factory=list)
    remove_tasks: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add_variants or self.remove_variants or self.add_tasks or self.remove_tasks)

    def lines(self) -> list[str]:
        out = [f"+ variant {k}" for k in self.add_variants] + [f"+ task {k}" for k in self.add_tasks]
        out += [f"- variant {k} (no longer in the catalog; its history stays in the warehouse)" for k in self.remove_variants]
        out += [f"- task {k} (pack folder gone; its history stays in the warehouse)" for k in self.remove_tasks]
        return out

    def requests(self) -> list:
        reqs = []
        if self.add_variants:
            reqs.append(VARIANTS.build_add_request(self.add_variants))
        if self.add_tasks:
            reqs.append(TASKS.build_add_request(self.add_tasks))
        if self.remove_variants:
            reqs.append(VARIANTS.build_delete_request(self.remove_variants))
        if self.remove_tasks:
            reqs.append(TASKS.build_delete_request(self.remove_tasks))
        return reqs


def plan_sync(wanted_variants: list[str], wanted_tasks: list[str], have_variants: list[str], have_tasks: list[str]) -> SyncPlan:
    return SyncPlan(
        add_variants=[k for k in wanted_variants if k not in have_variants],
        remove_variants=sorted(set(have_variants) - set(wanted_variants)),
        add_tasks=[k for k in wanted_tasks if k not in have_tasks],
        remove_tasks=sorted(set(have_tasks) - set(wanted_tasks)),
    )


def wanted(catalog_resource: CatalogResource) -> tuple[list[str], list[str]]:
    """Variants of a valid models.yaml, and every pack folder (a broken pack is a partition that fails alone)."""
    return catalog_resource.variant_keys(), catalog_resource.pack_names()


def sync_instance(instance: dg.DagsterInstance, catalog_resource: CatalogResource) -> SyncPlan:
    want_v, want_t = wanted(catalog_resource)
    plan = plan_sync(want_v, want_t, instance.get_dynamic_partitions("variant"), instance.get_dynamic_partitions("task"))
    if plan.add_variants:
        instance.add_dynamic_partitions("variant", plan.add_variants)
    if plan.add_tasks:
        instance.add_dynamic_partitions("task", plan.add_tasks)
    for key in plan.remove_variants:
        instance.delete_dynamic_partition("variant", key)
    for key in plan.remove_tasks:
        instance.delete_dynamic_partition("task", key)
    return plan
