"""engine_probe[variant]: what this model file does on this engine config, measured.

Load time, peak server RSS, VRAM/temperature when a GPU exists, TTFT and prompt/generation speed at
fixed lengths (client and server figures side by side), the llama-bench ceiling, perplexity on a
shipped text and a determinism check against the previous probe of the same file and build.
"""


import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import dagster as dg
from pydantic import Field

from partitions import VARIANTS
from resources.gpu import HOT_C, GpuTelemetry
from resources.llama_server import LlamaServerResource, RssSampler
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource, read_sql

from ..catalog.resource import CatalogResource
from ..engine import probe as P
from ..engine.manifest import run_manifest
from ..resolve import resolve_variant

CHECKS = [
    dg.AssetCheckSpec("deterministic", asset="engine_probe",
                      description="Same canonical outputs as the previous probe of the same model file and engine build."),
    dg.AssetCheckSpec("thermals_ok", asset="engine_probe", description=f"GPU stayed at or below {HOT_C:.0f} °C."),
]


class ProbeConfig(dg.Config):
    """How much to measure; the defaults are the figures the report shows."""

    speed_repeats: int = Field(default=3, ge=1, description="Speed runs; the median is reported.")
    prompt_tokens: int = Field(default=256, ge=16)
    gen_tokens: int = Field(default=64, ge=8)
    llama_bench: bool = Field(default=True, description="Run llama-bench for the engine ceiling.")
    perplexity_chunks: int = Field(default=8, ge=0, description="0 skips perplexity.")


def determinism_verdict(previous: dict[str, Any] | None, current_hash: str, model_sha: str, build_key: str) -> tuple[bool, str]:
    """Pure: compare with the previous probe row only when it served the same file with the same build."""
    if not previous or previous.get("model_sha256") != model_sha or previous.get("engine_build") != build_key:
        return True, "baseline recorded (no previous probe of this file and build)"
    before = previous.get("determinism_hash")
    if before == current_hash:
        return True, f"matches previous probe ({current_hash})"
    return False, f"drift: previous {before}, now {current_hash}"


@dg.multi_asset(
    specs=[dg.AssetSpec(
        "engine_probe", deps=["model_weights", "engine_build"], group_name="inference", kinds={"llamacpp"},
        code_version="1", partitions_def=VARIANTS,
        description="Load time, peak RSS/VRAM, TTFT, prompt/generation tok/s, llama-bench ceiling, perplexity, determinism.",
    )],
    check_specs=CHECKS,
    partitions_def=VARIANTS,
    pool="engine",
    can_subset=True,  # checks are optional outputs: an API variant reports them as skipped, never as passed
)
def engine_probe(context: dg.AssetExecutionContext, config: ProbeConfig, catalog: CatalogResource, object_store: ObjectStoreResource,
                 llama_server: LlamaServerResource, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    key = context.partition_key
    resolved = resolve_variant(catalog, key, log=context.log.info, store=object_store)
    variant = resolved.variant
    if variant.is_api:
        # No check result: Dagster shows both checks as not executed for this partition, never as passed.
        yield dg.MaterializeResult(
            metadata={"skipped": "API model: latency is measured per request in pack_results"},
            data_version=dg.DataVersion("api"),
        )
        return
    build, weights = resolved.build, resolved.weights
    assert build is not None and weights is not None
    previous = next(iter(warehouse.query(read_sql("queries/previous_probe.sql"), [key])), None)
    started = datetime.now(timezone.utc).isoformat()
    threads = variant.engine.threads if variant.engine else None
    with GpuTelemetry() as gpu, resolved.serve(llama_server, object_store, "engine_probe", context.log.info) as srv:
        with RssSampler(srv.pid) as rss:
            speed = P.run(P.speed_run(srv.openai_base, config.prompt_tokens, config.gen_tokens, config.speed_repeats))
            determinism = P.run(P.determinism_run(srv.openai_base))
        load_time, props, slots = srv.load_time_s, srv.props, srv.slots
        model_path = srv.command[srv.command.index("--model") + 1] if "--model" in srv.command else None
    bench = {"skipped": "disabled or no llama-bench"}
    if config.llama_bench and build.tool("llama-bench") and model_path:
        bench = P.run_llama_bench(build.tools["llama-bench"], model_path, threads)
    ppl = {"skipped": "disabled or no llama-perplexity"}
    if config.perplexity_chunks and build.tool("llama-perplexity") and model_path:
        ppl = P.run_perplexity(build.tools["llama-perplexity"], model_path, threads, chunks=config.perplexity_chunks)
    ok, reason = determinism_verdict(previous, determinism["hash"], weights.sha256, build.key)
    g = gpu.sample
    record = {
        "variant": key, "model": variant.model.name, "quant": variant.quant, "engine": variant.engine_name,
        "run_id": context.run_id, "load_time_s": round(load_time, 3), "peak_rss_bytes": rss.peak,
        "peak_vram_bytes": g.peak_vram_bytes if g.available else None, "gpu_temp_c": g.peak_temp_c if g.available else None,
        "ttft_s": speed["ttft_s"], "server_prompt_tps": speed["server_prompt_tps"],
        "server_predicted_tps": speed["server_predicted_tps"], "client_decode_tps": speed["client_decode_tps"],
        "bench_pp_tps": bench.get("pp128_tps"), "bench_tg_tps": bench.get("tg32_tps"),
        "perplexity": ppl.get("perplexity"), "determinism_hash": determinism["hash"], "deterministic": ok,
        "model_sha256": weights.sha256, "engine_build": build.key,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    detail = {"speed": speed, "bench": bench, "perplexity": ppl, "determinism": determinism, "gpu": g.__dict__,
              "server_props": {k: props.get(k) for k in ("build_info", "total_slots", "model_ftype")}, "slots": slots}
    record["detail"] = json.dumps(detail, default=str)
    warehouse.replace_partition("probes", {"variant": key}, [record])
    warehouse.replace_partition("runs", {"variant": key, "asset": "engine_probe"}, [run_manifest(
        run_id=context.run_id, asset="engine_probe", variant=key, task=None, model_sha256=weights.sha256,
        engine_build=build.key, engine_version=build.server_version, server_props=props,
        sampling={"temperature": 0.0, "seed": 1, "cache_prompt": False, "ignore_eos": True}, canonical=True,
        started_at=started, finished_at=record["created_at"])])
    agreement = None
    if speed["client_decode_tps"] and speed["server_predicted_tps"]:
        agreement = round(speed["client_decode_tps"] / speed["server_predicted_tps"], 4)
    yield dg.MaterializeResult(
        metadata={
            "load_time_s": record["load_time_s"], "peak_rss_mb": round(rss.peak / 1e6, 1) if rss.peak is not None else None,
            "gpu": g.name or g.reason, "ttft_s": speed["ttft_s"],
            "server_prompt_tps": speed["server_prompt_tps"], "server_predicted_tps": speed["server_predicted_tps"],
            "client_decode_tps": speed["client_decode_tps"], "client_over_server_decode": agreement,
            "bench_pp128_tps": bench.get("pp128_tps"), "bench_tg32_tps": bench.get("tg32_tps"),
            "perplexity": ppl.get("perplexity"), "determinism": reason, "model_sha256": weights.sha256,
            "engine_build": build.key,
        },
        check_results=[r for r in (
            dg.AssetCheckResult(check_name="deterministic", passed=ok, metadata={"detail": reason}),
            dg.AssetCheckResult(check_name="thermals_ok", passed=not g.too_hot,
                                metadata={"peak_temp_c": g.peak_temp_c if g.available else "no GPU"}),
        ) if dg.AssetCheckKey(context.asset_key, r.check_name) in context.selected_asset_check_keys],
    )
