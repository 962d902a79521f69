"""A backfill of pack_results launched from the UI takes the one-run path: Dagster's own backfill planner
(the code the backfill daemon runs) turns a variant x task selection into one run per row, not one per
partition, and each run's range covers that row's tasks."""

import dagster as dg


def test_ui_backfill_of_the_matrix_plans_one_run_per_variant_row():
    from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests_with_backfill_policies
    from dagster._core.definitions.events import AssetKeyPartitionKey

    from beyond_vibes_assets.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    variants = ["m~Q4~cpu", "m~Q8~cpu", "m~Q2~cpu"]
    tasks = ["alpha", "beta", "gamma", "delta"]
    instance.add_dynamic_partitions("variant", variants)
    instance.add_dynamic_partitions("task", tasks)
    wanted = [AssetKeyPartitionKey(dg.AssetKey("pack_results"), str(dg.MultiPartitionKey({"variant": v, "task": t})))
              for v in variants for t in tasks]
    from dagster._core.definitions.partitions.context import partition_loading_context

    with partition_loading_context(dynamic_partitions_store=instance):
        requests = build_run_requests_with_backfill_policies(wanted, defs.resolve_asset_graph(), instance)
    assert len(requests) == len(variants)  # 3 runs for 12 partitions, one engine start per variant
    covered = set()
    for request in requests:
        start = request.tags["dagster/asset_partition_range_start"]
        end = request.tags["dagster/asset_partition_range_end"]
        keys = dg.MultiPartitionsDefinition({"variant": dg.DynamicPartitionsDefinition(name="variant"),
                                             "task": dg.DynamicPartitionsDefinition(name="task")}
                                            ).get_partition_keys_in_range(dg.PartitionKeyRange(start, end), instance)
        assert len({k.keys_by_dimension["variant"] for k in keys}) == 1 and len(keys) == len(tasks)
        covered |= {str(k) for k in keys}
    assert covered == {w.partition_key for w in wanted}
