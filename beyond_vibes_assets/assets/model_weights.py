"""model_weights[variant]: the GGUF a variant serves, stored content-addressed by model~quant.

Variants that differ only by engine share one stored file (the engine does not change the weights);
the second materialization verifies and reuses it. DataVersion = sha256, so an unchanged file leaves
everything downstream fresh.
"""


import json
import time
from pathlib import Path

import dagster as dg

from partitions import VARIANTS, make_weights_key
from resources.hf_hub import HuggingFaceResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.models_config import LocalModel
from ..catalog.resource import CatalogResource
from ..engine.build import BuildInfo
from ..engine.weights import (
    WeightsError,
    WeightsManifest,
    gguf_facts,
    load_manifest,
    manifest_key,
    object_key,
    origin_of,
    packaged_file,
    quantize,
    sha256_file,
)
from ..resolve import engine_build_for, local_copy
from ..settings import subdir


def _store(store: ObjectStoreResource, model: LocalModel, quant: str, path: Path, origin: str, log, **extra) -> WeightsManifest:
    weights_key = make_weights_key(model.name, quant)
    facts = gguf_facts(path)  # refuses corrupt or truncated files before anything is stored
    sha = sha256_file(path)
    key = object_key(model.name, quant, sha)
    if store.size(key) != path.stat().st_size:
        store.put_file(key, path)
        log(f"stored {weights_key} ({path.stat().st_size / 1e6:.1f} MB) at {store.uri(key)}")
    manifest = WeightsManifest(
        weights_key=weights_key, model=model.name, quant=quant, origin=origin, sha256=sha,
        size_bytes=path.stat().st_size, object_key=key, object_uri=store.uri(key),
        architecture=facts["architecture"], parameters=facts["parameters"], file_type=facts["file_type"],
        gguf_name=facts["gguf_name"], context_length=facts["context_length"],
        prepared_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra,
    )
    store.put_bytes(manifest_key(model.name, quant), json.dumps(manifest.to_dict(), indent=2).encode())
    return manifest


def prepare_weights(model: LocalModel, quant: str, build: BuildInfo | None, store: ObjectStoreResource,
                    hf: HuggingFaceResource, log, config_dir: Path) -> WeightsManifest:
    origin = origin_of(model, quant)
    previous = load_manifest(store, model.name, quant)
    if origin == "derived":
        base = prepare_weights(model, model.derive[quant], build, store, hf, log, config_dir)
        if (previous and previous.source_sha256 == base.sha256 and previous.engine_build == (build.key if build else None)
                and store.size(previous.object_key) == previous.size_bytes):
            return previous  # same source file, same quantizer: the stored file is the answer
        if build is None or not build.tool("llama-quantize"):
            raise WeightsError(f"{make_weights_key(model.name, quant)} is derived but no llama-quantize is available for this engine")
        target = subdir("cache", "derive") / f"{make_weights_key(model.name, quant)}.gguf"
        quantize(build.tools["llama-quantize"], local_copy(store, base), target, quant, log=log)
        manifest = _store(store, model, quant, target, "derived", log, derived_from=model.derive[quant],
                          source_sha256=base.sha256, engine_build=build.key)
        target.unlink(missing_ok=True)
        return manifest
    if origin in ("package", "path"):
        src = model.source
        assert src is not None
        path = packaged_file(src.package, src.file) if src.package else (config_dir / Path(src.path).expanduser())
        if not path.exists():
            raise WeightsError(f"source file {path} for {make_weights_key(model.name, quant)} does not exist; fix 'source.path' in models.yaml")
        detail = f"{src.package}:{src.file}" if src.package else str(path)
        return _store(store, model, quant, path, origin, log, source_file=detail, revision=model.revision)
    path, filename, commit = hf.download(model.repo_id, quant, model.revision)
    return _store(store, model, quant, path, "hub", log, source_file=f"{model.repo_id}/{filename}", revision=commit)


@dg.asset(
    partitions_def=VARIANTS,
    deps=["engine_build"],
    group_name="inference",
    kinds={"gguf"},
    code_version="1",
    pool="warehouse",
    description="GGUF from the HF hub, a packaged file or derived by llama-quantize, in the object store with sha256 and header facts.",
)
def model_weights(context: dg.AssetExecutionContext, catalog: CatalogResource, object_store: ObjectStoreResource,
                  hf_hub: HuggingFaceResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    variant = catalog.variant(context.partition_key)
    if variant.is_api:
        return dg.MaterializeResult(metadata={"skipped": "API model: no weights"}, data_version=dg.DataVersion("api"))
    build = engine_build_for(variant, context.log.info)
    config_dir = catalog.config_file().parent
    manifest = prepare_weights(variant.model, variant.quant, build, object_store, hf_hub, context.log.info, config_dir)
    warehouse.replace_partition("weights", {"weights_key": manifest.weights_key}, [manifest.warehouse_row()])
    return dg.MaterializeResult(
        metadata={
            "sha256": manifest.sha256, "size_bytes": manifest.size_bytes, "origin": manifest.origin,
            "derived_from": manifest.derived_from or "", "revision": manifest.revision or "",
            "architecture": manifest.architecture or "", "parameters": manifest.parameters or 0,
            "file_type": manifest.file_type or "", "object_uri": manifest.object_uri,
        },
        data_version=dg.DataVersion(manifest.sha256),
    )
