"""Start the engine for a variant exactly as configured (weights, build, engine args, chat template)."""


import contextlib
from collections.abc import Iterator
from pathlib import Path

from resources.llama_server import LlamaServerResource, RunningServer
from resources.object_store import ObjectStoreResource

from ..catalog.resource import CatalogResource
from ..catalog.variants import Variant
from ..engine.build import BuildInfo
from ..engine.weights import WeightsManifest
from ..settings import REPO_ROOT, subdir
from .engine_build import build_for_variant
from .model_weights import local_copy, manifest_for_variant

BUILTIN_TEMPLATES = REPO_ROOT / "beyond_vibes_assets" / "engine" / "templates"


def template_args(variant: Variant, config_dir: Path) -> list[str]:
    """--chat-template(-file) from the model, else from the engine (tool calls need a template that knows tools)."""
    for source in (variant.model, variant.engine):
        file = getattr(source, "chat_template_file", None)
        if file:
            path = Path(file)
            for base in (config_dir, BUILTIN_TEMPLATES):
                if (base / path).exists():
                    return ["--chat-template-file", str((base / path).resolve())]
            return ["--chat-template-file", str(path)]
        if getattr(source, "chat_template", None):
            return ["--chat-template", source.chat_template]
    return []


@contextlib.contextmanager
def serve_variant(catalog: CatalogResource, store: ObjectStoreResource, server: LlamaServerResource, variant_key: str,
                  log_name: str, log, build: BuildInfo | None = None, manifest: WeightsManifest | None = None,
                  ) -> Iterator[tuple[RunningServer, BuildInfo, WeightsManifest, Path]]:
    """Serve the variant; pass `build`/`manifest` when the caller already resolved them (no second lookup)."""
    variant = catalog.variant(variant_key)
    build = build or build_for_variant(catalog, variant_key, log)
    manifest = manifest or manifest_for_variant(catalog, store, variant_key)
    assert build is not None and manifest is not None and variant.engine is not None
    path = local_copy(store, manifest)
    args = variant.engine.server_args() + template_args(variant, catalog.config_file().parent)
    log_path = subdir("logs", variant_key) / f"{log_name}.log"
    with server.serve(build.tools["llama-server"], str(path), args, log_path, alias=variant_key) as running:
        log(f"llama-server for {variant_key} on {running.base_url} (pid {running.pid}, load {running.load_time_s:.2f}s, log {log_path})")
        yield running, build, manifest, path
