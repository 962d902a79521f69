"""pack_definition[task] and pack_results[variant x task]: behaviour packs run and scored.

pack_definition's data version is the pack's fingerprint (items + the code versions of the
verifiers it uses), so editing one verifier makes only that pack's results stale. pack_results sends
only what the response store lacks, then re-scores every stored response: a re-materialization after
a verifier change makes zero model calls.
"""


import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import dagster as dg
from pydantic import Field

from partitions import TASKS, VARIANT_TASK, split_multi_key
from resources.llama_server import LlamaServerResource
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.packs import Pack
from ..catalog.resource import CatalogResource
from ..engine.build import BuildInfo
from ..engine.weights import WeightsManifest
from ..engine.manifest import run_manifest
from ..runner.pack_runner import CANONICAL_SAMPLING, RunStats, Target, plan, run_pack, score_records
from ..runner import progress as progress_hooks
from ..runner.response_store import ResponseStore
from .engine_build import build_for_variant
from .engine_probe import probe_speed
from .model_weights import manifest_for_variant
from .serving import serve_variant


class PackRunConfig(dg.Config):
    """Overrides for one run. Anything but canonical sampling is tagged and kept out of regression gates."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    timeout_s: float | None = Field(default=None, description="Fixed per-sample timeout; default scales with probe speed.")
    concurrency: int | None = Field(default=None, description="Requests in flight; default = server slots.")
    retry_errors: bool = Field(default=False, description="Re-send samples whose stored result is any failure.")


def sampling_from(config: PackRunConfig) -> dict[str, Any]:
    sampling = dict(CANONICAL_SAMPLING)
    for key in ("temperature", "top_p", "seed"):
        value = getattr(config, key)
        if value is not None:
            sampling[key] = value
    return sampling


@dg.asset(
    partitions_def=TASKS,
    group_name="packs",
    kinds={"yaml"},
    code_version="1",
    description="A behaviour pack as loaded and validated; data version = items + verifier code versions.",
)
def pack_definition(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dg.MaterializeResult:
    pack = catalog.pack(context.partition_key)
    counts: dict[str, int] = {}
    for item in pack.items:
        counts[item.difficulty] = counts.get(item.difficulty, 0) + 1
    return dg.MaterializeResult(
        metadata={"version": pack.version, "items": len(pack.items), "verifiers": ", ".join(pack.verifiers),
                  "difficulty": dg.MetadataValue.json(counts), "fingerprint": pack.fingerprint, "path": pack.path},
        data_version=dg.DataVersion(pack.fingerprint),
    )


def make_target(catalog: CatalogResource, clients: LLMClientResource, variant_key: str, base_url: str | None,
                slots: int, model_sha: str | None, build_key: str | None, concurrency: int | None) -> Target:
    variant = catalog.variant(variant_key)
    model = variant.model
    decode_tps, prompt_tps = probe_speed(variant_key)
    if variant.is_api:
        if model.api_key_env and not os.environ.get(model.api_key_env):
            raise dg.Failure(description=f"{model.api_key_env} is not set (api_key_env of model '{model.name}' in "
                                         f"{catalog.config_file()}): export it before running this variant")
        client = clients.client(model.provider, model.resolved_base_url, model.resolved_model_id, model.api_key_env)
        width = concurrency or model.max_concurrency
        return Target(variant_key, model.name, variant.quant, variant.engine_name, client, width, False,
                      thinking=model.thinking)
    client = clients.client("openai_compatible", f"{base_url}/v1", variant_key)
    width = min(concurrency or slots, slots)
    return Target(variant_key, model.name, variant.quant, variant.engine_name, client, width, True, model_sha,
                  build_key, model.thinking, decode_tps, prompt_tps)


@contextlib.contextmanager
def endpoint_for(catalog: CatalogResource, store: ObjectStoreResource, server: LlamaServerResource, variant_key: str,
                 log: Callable[[str], None], log_name: str, needed: bool, build: BuildInfo | None,
                 weights: WeightsManifest | None):
    """(base_url, slots, server props) for a variant; starts llama-server for local ones only when needed."""
    if catalog.variant(variant_key).is_api or not needed:
        yield None, 1, {}
        return
    with serve_variant(catalog, store, server, variant_key, log_name, log, build, weights) as (srv, *_):
        yield srv.base_url, srv.slots, srv.props


def execute_pack(pack: Pack, variant_key: str, *, catalog: CatalogResource, object_store: ObjectStoreResource,
                 llama_server: LlamaServerResource, llm_clients: LLMClientResource, warehouse: WarehouseResource,
                 config: PackRunConfig, run_id: str, log: Callable[[str], None],
                 progress: Callable[[int, int, str], None] | None = None) -> tuple[RunStats, list[dict[str, Any]]]:
    """The one code path behind the asset and `beyond-vibes packs run`."""
    sampling = sampling_from(config)
    canonical = sampling == CANONICAL_SAMPLING
    store = ResponseStore.for_partition(variant_key, pack.name)
    started = datetime.now(timezone.utc)
    build = build_for_variant(catalog, variant_key, log)
    weights = manifest_for_variant(catalog, object_store, variant_key)
    sha, build_key = (weights.sha256 if weights else None), (build.key if build else None)
    planning = make_target(catalog, llm_clients, variant_key, "http://127.0.0.1:0", 1, sha, build_key, config.concurrency)
    todo, _ = plan(pack, planning, store, sampling, config.retry_errors, config.timeout_s)
    if not todo:
        log(f"all {len(pack.items)} items already answered for this file, build and sampling: re-scoring only")
    with endpoint_for(catalog, object_store, llama_server, variant_key, log, f"pack-{pack.name}", bool(todo),
                      build, weights) as (base, slots, props):
        target = make_target(catalog, llm_clients, variant_key, base, slots, sha, build_key, config.concurrency)
        stats = asyncio.run(run_pack(pack, target, store, sampling=sampling, retry_errors=config.retry_errors,
                                     timeout_override_s=config.timeout_s, run_id=run_id, progress=progress))
    rows = score_records(pack, target, store, sampling)
    # canonical and override runs of one partition live side by side: each replaces only its own rows
    sampling_key = json.dumps(sampling, sort_keys=True)
    warehouse.replace_partition("samples", {"variant": variant_key, "task": pack.name, "sampling_params": sampling_key}, rows)
    warehouse.replace_partition("runs", {"variant": variant_key, "task": pack.name, "asset": "pack_results",
                                         "sampling_params": sampling_key}, [run_manifest(
        run_id=run_id, asset="pack_results", variant=variant_key, task=pack.name, model_sha256=sha, engine_build=build_key,
        engine_version=props.get("build_info") or (build.server_version if build else None), server_props=props,
        sampling=sampling, canonical=canonical, started_at=started.isoformat(),
        finished_at=datetime.now(timezone.utc).isoformat(), n_samples=len(rows), n_cached=stats.cached, n_sent=stats.sent)])
    return stats, rows


@dg.asset(
    partitions_def=VARIANT_TASK,
    deps=["engine_probe", "pack_definition"],
    group_name="packs",
    kinds={"duckdb"},
    code_version="1",
    pool="engine",
    check_specs=[dg.AssetCheckSpec("every_item_once", asset="pack_results",
                                   description="Every pack item has exactly one stored, scored row.")],
    description="One record per pack item: prompt, raw response, tokens, TTFT, tok/s, verdict, failure mode.",
)
def pack_results(context: dg.AssetExecutionContext, config: PackRunConfig, catalog: CatalogResource,
                 object_store: ObjectStoreResource, llama_server: LlamaServerResource,
                 llm_clients: LLMClientResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    variant_key, task = split_multi_key(context.partition_key)
    pack = catalog.pack(task)
    last = [0.0]

    def progress(done: int, total: int, note: str) -> None:
        progress_hooks.report(done, total, note)
        if done == total or time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            context.log.info(f"[{done}/{total}] {note}")

    stats, rows = execute_pack(pack, variant_key, catalog=catalog, object_store=object_store, llama_server=llama_server,
                               llm_clients=llm_clients, warehouse=warehouse, config=config, run_id=context.run_id,
                               log=context.log.info, progress=progress)
    passed = sum(1 for r in rows if r["passed"])
    failures = sum(1 for r in rows if r["failure_mode"])
    ids = [r["sample_id"] for r in rows]
    complete = len(ids) == len(set(ids)) == len(pack.items)
    canonical = sampling_from(config) == CANONICAL_SAMPLING
    return dg.MaterializeResult(
        metadata={
            "pass_rate": round(passed / len(rows), 4) if rows else 0.0, "passed": passed, "items": len(pack.items),
            "failed_calls": failures, "failure_modes": dg.MetadataValue.json(stats.failures),
            "sent": stats.sent, "cached": stats.cached, "seconds": round(stats.seconds, 2),
            "canonical": canonical, "pack_fingerprint": pack.fingerprint,
        },
        tags={"beyond_vibes/canonical": str(canonical).lower()},
        check_results=[dg.AssetCheckResult(check_name="every_item_once", passed=complete,
                                           metadata={"rows": len(ids), "unique": len(set(ids)), "items": len(pack.items)})],
    )
