"""Record which variants, packs and sims the catalog holds now, so headline views count only those.

A pack folder removed (or a variant dropped from models.yaml) leaves its rows in the warehouse: history is
never deleted. What changes is `catalog_members`: the member gets the date it left, and the views in
`sql/views/000_current.sql` stop counting it. `catalog_items` lists each current pack's items, so an item
edited out of a pack stops counting while its stored answer stays.

Recorded by every asset that writes or reads results (pack_results, sim_episodes, curated_dataset, report),
from the catalog as that run parsed it; an unreadable models.yaml leaves the variant list as last recorded
rather than retiring every variant. A state equal to the recorded one is not written again (`recorded_at` is the
time of the last change), so the many runs of a backfill do not queue on the warehouse for nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from resources.warehouse import read_sql

from .errors import ConfigError

Member = tuple[str, str]  # (kind, name)


@dataclass(frozen=True)
class CatalogSnapshot:
    """What the catalog holds now: members with their fingerprints and item counts, and each pack's item ids.

    `kinds` lists the kinds read successfully; members of any other kind keep their recorded state."""

    members: dict[Member, tuple[str | None, int | None]]
    items: dict[str, list[str]]
    kinds: frozenset[str]

    @property
    def digest(self) -> str:
        """One short hash of the catalog state the views reflect (shown in the report)."""
        text = "\n".join(f"{k}:{n}:{fp}" for (k, n), (fp, _) in sorted(self.members.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def snapshot(catalog: Any) -> CatalogSnapshot:
    """Read the parsed catalog (CatalogResource). A broken pack or sim stays a member (it still is a partition)."""
    members: dict[Member, tuple[str | None, int | None]] = {}
    items: dict[str, list[str]] = {}
    kinds = {"pack", "sim"}
    try:  # variants and lm-eval tasks come from models.yaml: unreadable, both keep their recorded state
        for key in catalog.variant_keys():
            members[("variant", key)] = (None, None)
        for task in catalog.catalog().lm_eval.tasks:
            members[("lmeval", task.name)] = (None, task.limit)
        kinds |= {"variant", "lmeval"}
    except ConfigError:
        pass
    packs = catalog.all_packs()
    for name in catalog.pack_names():
        pack = packs.get(name)
        members[("pack", name)] = (pack.fingerprint, len(pack.items)) if pack else (None, None)
        if pack:
            items[name] = [item.id for item in pack.items]
    sims = catalog.all_sims()
    for name in catalog.sim_names():
        sim = sims.get(name)
        members[("sim", name)] = (getattr(sim, "fingerprint", None), None)
    return CatalogSnapshot(members, items, frozenset(kinds))


def plan_members(previous: Iterable[Mapping[str, Any]], current: CatalogSnapshot, seen: Iterable[Member],
                 now: datetime) -> list[dict[str, Any]]:
    """The new `catalog_members` rows (pure). A member still held keeps its first_seen and loses any retired_at
    (it came back); one that left keeps its rows and gets retired_at = the first time it was found missing;
    one found only in result rows is retired now (it left before state was recorded)."""
    rows: dict[Member, dict[str, Any]] = {}
    for row in previous:
        rows[(row["kind"], row["name"])] = dict(row)
    for member, (fingerprint, n_items) in current.members.items():
        old = rows.get(member, {})
        rows[member] = {"kind": member[0], "name": member[1], "fingerprint": fingerprint, "items": n_items,
                        "first_seen": old.get("first_seen") or now, "retired_at": None, "recorded_at": now}
    for member in set(rows) | set(seen):
        if member in current.members or member[0] not in current.kinds:
            continue
        old = rows.get(member) or {"kind": member[0], "name": member[1], "fingerprint": None, "items": None,
                                   "first_seen": None, "retired_at": None}
        rows[member] = {**old, "retired_at": old.get("retired_at") or now, "recorded_at": now}
    return sorted(rows.values(), key=lambda r: (r["kind"], r["name"]))


def record_catalog_state(warehouse: Any, catalog: Any, now: datetime | None = None) -> CatalogSnapshot:
    """Write the catalog's current state into `catalog_members` / `catalog_items` (one transaction)."""
    with warehouse.session():  # three reads and, when something changed, one write: one connection
        return _record(warehouse, snapshot(catalog), now or datetime.now(timezone.utc).replace(tzinfo=None))


def _record(warehouse: Any, current: CatalogSnapshot, now: datetime) -> CatalogSnapshot:
    previous = warehouse.query("SELECT * FROM catalog_members")
    seen = [(r["kind"], r["name"]) for r in warehouse.query(read_sql("queries/result_members.sql"))]
    members = plan_members(previous, current, seen, now)
    items = dict(current.items)
    stored_items = {row["task"]: row["ids"] for row in warehouse.query(read_sql("queries/catalog_items_by_task.sql"))}
    for task, ids in stored_items.items():
        if ("pack", task) in current.members and task not in items:
            items[task] = ids  # a pack broken now keeps the items it last had
    if unchanged(previous, members, stored_items, items):
        return current  # the common case (every run records the state): nothing to write
    item_rows = [{"task": task, "sample_id": sid} for task, ids in sorted(items.items()) for sid in ids]
    warehouse.replace_partitions([("catalog_members", {}, members), ("catalog_items", {}, item_rows)])
    return current


def unchanged(previous: Iterable[Mapping[str, Any]], members: list[dict[str, Any]],
              stored_items: Mapping[str, list[str]], items: Mapping[str, list[str]]) -> bool:
    """Whether the planned state equals the recorded one, apart from `recorded_at` (pure)."""
    def state(rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
        return sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k != "recorded_at")) for r in rows)

    def by_task(found: Mapping[str, list[str]]) -> dict[str, list[str]]:
        return {task: sorted(ids) for task, ids in found.items()}

    return state(previous) == state(members) and by_task(stored_items) == by_task(items)
