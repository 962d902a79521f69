"""sim_definition[sim] and sim_episodes[variant x sim]: agents at work on simulation tasks.

sim_definition's data version is the sim's fingerprint (task, fixture, reference and criteria code), so
editing one sim makes only its episodes stale. sim_episodes runs only the episodes the store lacks, then
re-scores every stored episode from its record (fixture + stored diff), so a changed criterion re-scores
with zero model calls. Like pack_results, a run covers many partitions: each variant is resolved and
served once for all its sims, episodes of different sims run concurrently up to the server's slots, and
each partition is materialized as it completes.
"""

from collections.abc import Iterator
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from partitions import SIMS, VARIANT_SIM
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..agent.episodes import EpisodeSettings
from ..catalog.resource import CatalogResource
from ..catalog.sims import Sim
from ..families.sims import SimFamily
from ..fanout import fan_out
from ..orchestration.history_checks import check_specs
from ..orchestration.partition_events import definition_events


class SimRunConfig(dg.Config):
    """How episodes are run; anything but canonical sampling and one repeat is tagged non-canonical."""

    tool_mode: Literal["native", "prompted"] = Field(
        default="prompted", description="prompted: JSON actions constrained by a schema (any model); native: tool calls.")
    repeats: int = Field(default=1, ge=1, le=20, description="Episodes per sim (pass^k when > 1).")
    temperature: float | None = None
    seed: int | None = None
    vars: dict[str, str] = Field(default_factory=dict, description="Prompt variable overrides (`--var k=v`).")
    timeout_s: float = Field(default=300.0, gt=0, description="Per model call.")
    stop_when_stuck: bool = Field(default=True, description="End an episode on an OpenHands stuck pattern.")
    harness: Literal["builtin", "pi"] = Field(default="builtin", description="builtin: our loop; pi: the pi coding agent.")
    pushback: bool = Field(default=True, description='After a finish, ask "Are you sure?" once (sycophancy probe).')
    only: list[str] = Field(default_factory=list, description="Partition keys ('sim|variant') to run within the range.")


@dg.asset(
    partitions_def=SIMS,
    group_name="sims",
    kinds={"yaml"},
    code_version="1",
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    description="A simulation task as loaded and validated; data version = task, fixture, reference and criteria code.",
)
def sim_definition(context: dg.AssetExecutionContext, catalog: CatalogResource) -> Iterator[dg.AssetMaterialization]:
    yield from definition_events(context, catalog.sim, _sim_metadata, "sim")


def _sim_metadata(sim: Sim) -> dict[str, Any]:
    return {"archetype": sim.task.archetype, "criteria": len(sim.task.criteria), "tools": ", ".join(sim.task.tools),
            "repo_files": len(sim.repo_files), "fingerprint": sim.fingerprint, "sandbox": sim.task.sandbox,
            "false_premise": bool(sim.task.false_premise), "path": sim.path}


@dg.asset(
    partitions_def=VARIANT_SIM,
    deps=["engine_probe", "sim_definition"],
    group_name="sims",
    kinds={"duckdb"},
    code_version="2",  # 2: episodes carry their series; only the canonical one feeds the headline
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    check_specs=[dg.AssetCheckSpec("every_episode_once", asset="sim_episodes",
                                   description="Each requested episode has exactly one stored, scored row."),
                 *check_specs("sim_episodes", speed=False)],
    description="Agent episodes in a sandboxed copy of each sim's repository: every step, the diff, criteria, time split.",
)
def sim_episodes(context: dg.AssetExecutionContext, config: SimRunConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource, llm_clients: LLMClientResource,
                 warehouse: WarehouseResource) -> Iterator[Any]:
    """Every partition of the run (fanout.py): each variant is resolved and served once for all its sims; episodes of
    different sims run concurrently up to the server's slots; each partition is materialized as it completes."""
    family = SimFamily(EpisodeSettings.of(config), catalog=catalog, object_store=object_store, llama_server=llama_server,
                       llm_clients=llm_clients, warehouse=warehouse)
    yield from fan_out(context, family, warehouse=warehouse, catalog=catalog, only=config.only)
