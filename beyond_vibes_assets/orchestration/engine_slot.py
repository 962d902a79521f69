"""Hold a slot of the `engine` pool only while a llama-server is actually serving.

A pack_results run over partitions whose answers are all stored never starts an engine, so it should
not queue behind one that does. The asset therefore claims the pool at run time, around the server,
with Dagster's own concurrency storage (the same slots, limits and UI as a declared `pool=`), instead of
declaring the pool for the whole step. engine_probe, which always serves, declares it as usual.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator

import dagster as dg

ENGINE_POOL = "engine"


def _holds(storage, pool: str, run_id: str, key: str) -> bool:
    """Whether the slot row really holds this step, within the pool's limit. Dagster's Postgres claim selects a free
    slot row `FOR UPDATE SKIP LOCKED` and then updates it by id; two runs waking on the same freed slot can both be
    told "claimed" while the row keeps only the last writer. tests/e2e/test_team.py caught two llama-servers at once."""
    info = storage.get_concurrency_info(pool)
    mine = any(s.run_id == run_id and s.step_key == key for s in info.claimed_slots)
    return mine and len(info.claimed_slots) <= info.slot_count


@contextlib.contextmanager
def engine_slot(context: dg.AssetExecutionContext, holder: str, pool: str = ENGINE_POOL,
                while_waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Block until a slot of `pool` is free, hold it for the block, always free it. `while_waiting` is work that needs
    no engine, done (once) the first time the slot is taken, instead of after the wait: a backfill's runs all start
    together, and each recording its answered partitions before asking for the engine left the engine idle meanwhile."""
    storage = context.instance.event_log_storage
    if not storage.supports_global_concurrency_limits:  # in-memory instances (tests): nothing to share
        yield
        return
    if (context.instance.get_concurrency_config().pool_config.default_pool_limit is not None
            and pool not in storage.get_concurrency_keys()):
        # only where the pool has no limit yet: on Postgres, initializing an existing pool violates its unique key
        storage.initialize_concurrency_limit_to_default(pool)
    run_id, key = context.run_id, f"{context.asset_key.to_user_string()}[{holder}]"
    waited = 0.0
    while True:
        status = storage.claim_concurrency_slot(pool, run_id, key)
        if status.is_claimed and _holds(storage, pool, run_id, key):
            break
        if status.is_claimed:  # lost a race for the same slot row (seen on Postgres): let go, try again shortly
            storage.free_concurrency_slot_for_step(run_id, key)
            context.log.info(f"'{pool}' slot for {holder} was taken at the same moment by another run; retrying")
            time.sleep(random.uniform(0.2, 1.0))
            continue
        if while_waiting is not None:  # then ask again at once: the slot may have come free meanwhile
            context.log.info(f"'{pool}' pool busy: doing what needs no engine before waiting to serve {holder}")
            work, while_waiting = while_waiting, None
            work()
            continue
        if waited == 0.0:
            context.log.info(f"waiting for a free '{pool}' pool slot to serve {holder}")
        # a quarter second: a handoff is one cheap query per waiting run, and each second polled is a second the
        # engine stands idle between two variants of a backfill
        pause = status.sleep_interval or 0.25
        time.sleep(pause)
        waited += pause
    try:
        yield
    finally:
        storage.free_concurrency_slot_for_step(run_id, key)
