"""A run records its all-answered partitions while it would wait for the engine pool, never while it holds it, and
serves first when the pool is free: a backfill's runs start together, and when each recorded its answered partitions
before asking for the engine, the engine stood idle until the first of them was done (five runs side by side take
7–16 s each to write 200: benchmarks/backfill_overhead.py). The one partition run (fanout.py) with a stand-in
family, on a real SQLite instance with the shipped `engine` pool (one slot), which another run holds or not."""

import threading

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.staleness import partition_range
from beyond_vibes_assets.fanout import fan_out
from beyond_vibes_assets.orchestration.engine_slot import ENGINE_POOL
from beyond_vibes_assets.runner.family import Prepared, Recorded
from beyond_vibes_assets.settings import ensure_dagster_home
from resources.warehouse import WarehouseResource
from tests.conftest import within

OTHER_RUN, OTHER_STEP = "another-run", "pack_results[other~variant]"


class StandIn:
    """A family whose `new` partition needs the engine (its slot) and whose `answered` one does not."""

    asset, dimension, coverage_check, history_kind, speed_checks = "stand_in", "task", None, None, False

    def __init__(self, pool_held_while: list[str]):
        self.events: list[tuple[str, str, bool]] = []  # (what, partition, the other run held the pool then)
        self.held = pool_held_while

    def begin(self, variants):
        return None

    def definition(self, name):
        return name

    def prepare(self, variant, definitions, hooks):
        return Prepared(variant, definitions, pending=1, by_name={"answered": 0, "new": 1})

    def execute(self, batch, hooks):
        for prepared in batch:
            if prepared.pending:
                with hooks.slot(prepared.variant):
                    for name in prepared.definitions:
                        self.events.append(("model call", name, bool(self.held)))
                        yield prepared.variant, name, Recorded({"sent": 1})
            else:
                for name in prepared.definitions:
                    self.events.append(("recorded", name, bool(self.held)))
                    yield prepared.variant, name, Recorded({"sent": 0})


@pytest.fixture()
def instance(home):
    ensure_dagster_home()  # the shipped instance config: SQLite, the `engine` pool's default limit of one slot
    with dg.DagsterInstance.get() as inst:
        inst.add_dynamic_partitions("variant", ["v"])
        inst.add_dynamic_partitions("task", ["answered", "new"])
        storage = inst.event_log_storage
        storage.initialize_concurrency_limit_to_default(ENGINE_POOL)
        yield inst


def materialize_both(inst, family) -> list[str]:
    """One run over v × {answered, new}; the partitions in the order they were materialized."""
    parts = dg.MultiPartitionsDefinition({"variant": dg.DynamicPartitionsDefinition(name="variant"),
                                          "task": dg.DynamicPartitionsDefinition(name="task")})

    @dg.asset(partitions_def=parts, name="stand_in", output_required=False,
              backfill_policy=dg.BackfillPolicy.single_run())
    def stand_in(context: dg.AssetExecutionContext):
        yield from fan_out(context, family, warehouse=WarehouseResource(), catalog=CatalogResource())

    keys = [dg.MultiPartitionKey({"variant": "v", "task": t}) for t in ("answered", "new")]
    tags, _ = partition_range(inst, "stand_in", keys)
    result = dg.materialize([stand_in], instance=inst, tags=tags)
    assert result.success
    return [e.dagster_event.partition for e in inst.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"]


def test_answered_partitions_are_recorded_while_the_run_waits_for_the_engine(instance):
    storage = instance.event_log_storage
    assert storage.claim_concurrency_slot(ENGINE_POOL, OTHER_RUN, OTHER_STEP).is_claimed  # another run serves
    held = ["another run"]
    family = StandIn(held)

    def free_when_recorded():  # the other run finishes its model calls some time later
        within(30, lambda: ("recorded", "answered", True) in family.events)
        held.clear()
        storage.free_concurrency_slot_for_step(OTHER_RUN, OTHER_STEP)

    releaser = threading.Thread(target=free_when_recorded)
    releaser.start()
    order = materialize_both(instance, family)
    releaser.join()
    # recorded while the pool was busy (before the wait, not after it), then the model work once the slot came free;
    # its event is stored after the model work's, so storing it never holds the engine
    assert family.events == [("recorded", "answered", True), ("model call", "new", False)]
    assert order == ["new|v", "answered|v"]
    assert storage.get_concurrency_info(ENGINE_POOL).claimed_slots == []  # and the slot is free again


def test_a_run_serves_first_when_the_engine_is_free_and_records_the_answered_partitions_after(instance):
    family = StandIn([])
    order = materialize_both(instance, family)
    assert family.events == [("model call", "new", False), ("recorded", "answered", False)]
    assert order == ["new|v", "answered|v"]
