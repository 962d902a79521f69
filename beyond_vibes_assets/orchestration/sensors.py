"""Keep the dynamic partitions in sync with models.yaml and the packs folder."""


import dagster as dg

from ..catalog.errors import ConfigError
from ..catalog.resource import CatalogResource
from .sync import current, sync_plan, wanted


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Adds variants/tasks new in the catalog; removes and reports ones that are gone.")
def catalog_sync_sensor(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult | dg.SkipReason:
    catalog.reload()  # a tick sees the files as they are now, even if the resource object is reused
    try:
        want = wanted(catalog)
    except ConfigError as exc:
        return dg.SkipReason(f"catalog invalid, partitions left as they are:\n{exc}")
    plan = sync_plan(want, current(context.instance))
    if plan.empty:
        return dg.SkipReason("partitions match the catalog")
    for line in plan.lines():
        context.log.info(line)
    return dg.SensorResult(dynamic_partitions_requests=plan.requests())
