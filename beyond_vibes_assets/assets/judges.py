"""judge_program[rubric] and judge_scores[variant x sim]: rubric judges compiled against human labels, then
scoring every stored episode.

judge_program's data version is the hash of its saved programs, so recompiling to the same program keeps
everything downstream fresh. Its agreement with people (compiled and uncompiled, on held-out labels) is metadata,
a row in `judge_programs` and the `judge_agreement` check. judge_scores reads stored episodes and the saved
programs; every judge call is cached (program hash, judge model file + build, what the judge saw), so a
re-materialization sends nothing and serves no judge.
"""

from collections.abc import Iterator
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from partitions import RUBRICS, VARIANT_SIM
from resources.llama_server import LlamaServerResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.resource import CatalogResource
from ..families.judge_scores import JudgeScoreFamily
from ..fanout import fan_out, hooks_for
from ..judging import store as program_store
from ..orchestration.partition_events import partition_materialization


class JudgeProgramConfig(dg.Config):
    optimizer: Literal["bootstrap", "simba", "mipro"] = Field(
        default="bootstrap", description="bootstrap suits 10-50 labels; simba needs more; mipro wants hundreds.")
    max_demos: int = Field(default=2, ge=0, le=8, description="Demos in a compiled program (each costs context).")
    min_kappa: float = Field(default=0.4, description="Below this quadratic kappa on held-out labels a judge is not trusted.")
    min_coverage: float = Field(default=0.8, description="Share of held-out labels the judge must score (not fail).")
    mlflow_judge: bool = Field(default=True, description="Also measure the rubric through MLflow's make_judge.")
    baseline: bool = Field(default=True, description="Also measure the uncompiled program on the held-out labels "
                                                     "(what compiling changed); trust is decided on the compiled one.")
    only: list[str] = Field(default_factory=list, description="Rubrics to compile within the run's range.")


class JudgeScoresConfig(dg.Config):
    only: list[str] = Field(default_factory=list, description="Partition keys ('sim|variant') to judge within the range.")


@dg.asset(
    partitions_def=RUBRICS,
    group_name="judges",
    kinds={"dspy"},
    code_version=program_store.PROGRAM_VERSION,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("judge_agreement", asset="judge_program", description=(
        "Every judge of the run's rubrics agrees with the held-out human labels at or above min_kappa "
        "(quadratic-weighted Cohen's kappa) and scores most of them; below it the report marks the judge not trusted."))],
    description="A DSPy judge program per rubric and judge, compiled against human labels; agreement of the compiled "
                "program and its uncompiled baseline on held-out labels. Data version = hash of the saved programs.",
)
def judge_program(context: dg.AssetExecutionContext, config: JudgeProgramConfig, catalog: CatalogResource,
                  object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                  warehouse: WarehouseResource) -> Iterator[Any]:
    from ..judging.compiling import compile_rubrics

    names = [str(k) for k in context.partition_keys if not config.only or str(k) in set(config.only)]
    outcome = compile_rubrics(names, config, catalog, object_store, llama_server, warehouse, hooks_for(context))
    for name, result in outcome.done.items():
        yield partition_materialization(context, name, result["metadata"], data_version=result["data_version"])
    yield dg.AssetCheckResult(check_name="judge_agreement", passed=outcome.all_trusted,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"judges": dg.MetadataValue.json(outcome.trust_table)})
    if outcome.failed:
        raise dg.Failure(description=f"{len(outcome.failed)} rubric(s) failed (the others are materialized):\n"
                                     + "\n".join(f"  {k}: {v[:500]}" for k, v in outcome.failed.items()))


@dg.asset(
    partitions_def=VARIANT_SIM,
    # every rubric's program feeds every (variant, sim): Dagster has no built-in mapping from a sim's archetype to the
    # rubrics that apply, so an edited rubric marks all judge_scores stale, and the call cache makes re-scoring the
    # other rubrics free (0 judge calls)
    deps=["sim_episodes", dg.AssetDep("judge_program", partition_mapping=dg.AllPartitionMapping())],
    group_name="judges",
    kinds={"duckdb", "mlflow"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    description="Every canonical episode scored by every applicable compiled rubric and judge: score, rationale, "
                "program hash and its agreement; MLflow LLM-judge assessments on the episode's trace.",
)
def judge_scores(context: dg.AssetExecutionContext, config: JudgeScoresConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                 warehouse: WarehouseResource) -> Iterator[Any]:
    family = JudgeScoreFamily(catalog=catalog, object_store=object_store, llama_server=llama_server, warehouse=warehouse)
    yield from fan_out(context, family, warehouse=warehouse, catalog=catalog, only=config.only)
