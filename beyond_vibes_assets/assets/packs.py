"""pack_definition[task] and pack_results[variant x task]: behaviour packs run and scored.

pack_definition's data version is the pack's fingerprint (items + the code versions of the
verifiers it uses), so editing one verifier makes only that pack's results stale. pack_results sends
only what the response store lacks, then re-scores every stored response: a re-materialization after
a verifier change makes zero model calls.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
from pydantic import Field

from partitions import TASKS, VARIANT_TASK
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.packs import Pack
from ..catalog.resource import CatalogResource
from ..families.packs import PackFamily, PackScope
from ..fanout import fan_out
from ..orchestration.history_checks import check_specs
from ..orchestration.partition_events import definition_events


class PackRunConfig(dg.Config):
    """Overrides for one run. Anything but canonical sampling is tagged and kept out of regression gates."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    timeout_s: float | None = Field(default=None, description="Fixed per-sample timeout; default scales with probe speed.")
    concurrency: int | None = Field(default=None, description="Requests in flight; default = server slots.")
    retry_errors: bool = Field(default=False, description="Re-send samples whose stored result is any failure.")
    only: list[str] = Field(default_factory=list, description=(
        "Partition keys ('task|variant') to run within the launched range; empty = every partition of the run."))


@dg.asset(
    partitions_def=TASKS,
    group_name="packs",
    kinds={"yaml"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    description="A behaviour pack as loaded and validated; data version = items + verifier code versions.",
)
def pack_definition(context: dg.AssetExecutionContext, catalog: CatalogResource) -> Iterator[dg.AssetMaterialization]:
    """Every pack of the run in one go; a broken pack fails only its own partition."""
    yield from definition_events(context, catalog.pack, _pack_metadata, "pack")


def _pack_metadata(pack: Pack) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for item in pack.items:
        counts[item.difficulty] = counts.get(item.difficulty, 0) + 1
    return {"version": pack.version, "items": len(pack.items), "verifiers": ", ".join(pack.verifiers),
            "difficulty": dg.MetadataValue.json(counts), "fingerprint": pack.fingerprint, "path": pack.path}


@dg.asset(
    partitions_def=VARIANT_TASK,
    deps=["engine_probe", "pack_definition"],
    group_name="packs",
    kinds={"duckdb"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("every_item_once", asset="pack_results",
                                   description="Every pack item of the run's partitions has exactly one stored, scored row."),
                 *check_specs("pack_results", speed=True)],
    description="One record per pack item: prompt, raw response, tokens, TTFT, tok/s, verdict, failure mode.",
)
def pack_results(context: dg.AssetExecutionContext, config: PackRunConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                 llm_clients: LLMClientResource, warehouse: WarehouseResource) -> Iterator[Any]:
    """Every partition of the run, variant by variant (fanout.py): each variant is resolved and served once for
    all its packs; variants with nothing to send go first, without a server, on one warehouse connection. Each
    partition is materialized as it completes; a failed one fails the run without undoing the others. The `engine`
    pool is held only while a llama-server serves: all-answered partitions never queue."""
    family = PackFamily(PackScope.of(config), catalog=catalog, object_store=object_store, llama_server=llama_server,
                        llm_clients=llm_clients, warehouse=warehouse)
    yield from fan_out(context, family, warehouse=warehouse, catalog=catalog, only=config.only)
