"""lm_eval_results[variant x lmeval]: lm-evaluation-harness tasks beside the packs, on the same variants.

Same served engine, same resolution, same warehouse and history as pack_results, through the same partition run
(fanout.py, families/lmeval.py): a run first tries every task offline (all answers stored: no engine started),
then serves the variant once for the tasks that still need answers.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from pydantic import Field

from partitions import VARIANT_LMEVAL
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.resource import CatalogResource
from ..families.lmeval import LmEvalFamily
from ..fanout import fan_out
from ..orchestration.history_checks import check_specs


class LmEvalRunConfig(dg.Config):
    only: list[str] = Field(default_factory=list, description=(
        "Partition keys ('lmeval|variant') to run within the launched range; empty = every partition of the run."))


@dg.asset(
    partitions_def=VARIANT_LMEVAL,
    deps=["engine_probe"],
    group_name="lm_eval",
    kinds={"duckdb"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("every_document_once", asset="lm_eval_results",
                                   description="Every document lm-eval evaluated has exactly one stored row."),
                 *check_specs("lm_eval_results", speed=False)],
    description="lm-evaluation-harness tasks against the variant's engine: per-document rows and lm-eval's metrics with stderr.",
)
def lm_eval_results(context: dg.AssetExecutionContext, config: LmEvalRunConfig, catalog: CatalogResource,
                    object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                    llm_clients: LLMClientResource, warehouse: WarehouseResource) -> Iterator[Any]:
    family = LmEvalFamily(catalog=catalog, object_store=object_store, llama_server=llama_server,
                          llm_clients=llm_clients, warehouse=warehouse)
    yield from fan_out(context, family, warehouse=warehouse, catalog=catalog, only=config.only)
