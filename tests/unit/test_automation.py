"""The report refreshes itself when a new result lands, even while other partitions are missing."""

import dagster as dg

from beyond_vibes_assets.definitions import defs


def test_new_pack_result_requests_curated_dataset_then_report():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("variant", ["a~q~e", "b~q~e"])
    instance.add_dynamic_partitions("task", ["math"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "pack_results", partition=str(dg.MultiPartitionKey({"variant": "a~q~e", "task": "math"}))))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_requested_partitions(dg.AssetKey("curated_dataset")) == {None}  # b~q~e is still missing
    assert second.get_num_requested(dg.AssetKey("report")) == 1  # in the same run, after curated_dataset
    for asset in ("curated_dataset", "report"):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset))
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.total_requested == 0  # nothing new landed: nothing is recomputed
