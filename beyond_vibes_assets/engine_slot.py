"""Hold a slot of the `engine` pool only while a llama-server is actually serving.

A pack_results run over partitions whose answers are all stored never starts an engine, so it should
not queue behind one that does. The asset therefore claims the pool at run time, around the server,
with Dagster's own concurrency storage (the same slots, limits and UI as a declared `pool=`), instead of
declaring the pool for the whole step. engine_probe, which always serves, declares it as usual.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import dagster as dg

ENGINE_POOL = "engine"


@contextlib.contextmanager
def engine_slot(context: dg.AssetExecutionContext, holder: str, pool: str = ENGINE_POOL) -> Iterator[None]:
    """Block until a slot of `pool` is free, hold it for the block, always free it."""
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
        if status.is_claimed:
            break
        if waited == 0.0:
            context.log.info(f"waiting for a free '{pool}' pool slot to serve {holder}")
        pause = status.sleep_interval or 1.0
        time.sleep(pause)
        waited += pause
    try:
        yield
    finally:
        storage.free_concurrency_slot_for_step(run_id, key)
