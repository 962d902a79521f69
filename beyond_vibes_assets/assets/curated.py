"""curated_dataset: publish a read-only Parquet snapshot of the warehouse for readers.

Readers (notebooks, the UI, a second process) never open the live DuckDB file, which allows one
writer; they read this snapshot, replaced atomically folder by folder.
"""


import shutil

import dagster as dg

from resources.warehouse import WarehouseResource

from ..catalog.resource import CatalogResource
from ..catalog.state import record_catalog_state
from ..settings import subdir

# Refresh the published tables when any result lands; a missing partition elsewhere must not block it
# (eager() waits for every upstream partition, and a matrix is rarely complete).
REFRESH_ON_NEW_RESULTS = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refresh when new results land")

TABLES = ("samples", "runs", "probes", "weights", "pack_scores", "leaderboard", "sim_episodes", "sim_steps",
          "catalog_members", "catalog_items", "lmeval_samples", "lmeval_scores", "score_history", "judge_programs",
          "judge_scores")


@dg.asset(
    deps=["pack_results", "sim_episodes", "lm_eval_results", "judge_scores", "judge_program", "engine_probe", "model_weights"],
    group_name="warehouse",
    kinds={"duckdb", "parquet"},
    code_version="1",
    pool="warehouse",
    automation_condition=REFRESH_ON_NEW_RESULTS,
    description="Tidy warehouse tables and views, published as a Parquet snapshot for readers.",
)
def curated_dataset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                    catalog: CatalogResource) -> dg.MaterializeResult:
    target = subdir("warehouse", "snapshot")
    staging = subdir("warehouse", "snapshot.partial")
    counts = {}
    with warehouse.session():  # the catalog state and 15 exports: one connection instead of one each
        state = record_catalog_state(warehouse, catalog)
        for table in TABLES:
            counts[table] = warehouse.export_parquet(table, staging / f"{table}.parquet")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    context.log.info(f"snapshot at {target}: {counts}")
    published = _publish_episodes(warehouse, context) if counts.get("sim_episodes") else 0
    return dg.MaterializeResult(metadata={"snapshot": dg.MetadataValue.path(str(target)),
                                          "catalog_digest": state.digest,
                                          "mlflow_dataset_records": published,
                                          **{f"rows_{k}": v for k, v in counts.items()}})


def _publish_episodes(warehouse: WarehouseResource, context: dg.AssetExecutionContext) -> int:
    """The episodes as an MLflow evaluation dataset, only when they changed (MLflow costs seconds to import)."""
    import hashlib

    rows = warehouse.query("SELECT * FROM sim_episodes WHERE canonical ORDER BY episode_id")
    digest = hashlib.sha256("".join(f"{r['episode_id']}{r['scored_at']}" for r in rows).encode()).hexdigest()
    marker = subdir("mlflow") / "dataset.digest"
    if marker.exists() and marker.read_text() == digest:
        return 0
    from ..agent.traces import DATASET, publish_dataset

    sent = publish_dataset(rows)
    marker.write_text(digest)
    context.log.info(f"MLflow evaluation dataset {DATASET}: {sent} episode records merged")
    return sent
