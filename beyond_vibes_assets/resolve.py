"""Resolve a variant once per run: catalog entry, engine build, weights manifest and measured speed.

Every asset that serves or calls a variant (probe, packs, and the simulation and lm-eval assets to
come) starts here, so a run looks each fact up exactly once and no asset imports a sibling asset's
helpers. Probe speed comes from the warehouse `probes` table, the row engine_probe wrote.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from resources.llama_server import LlamaServerResource, RunningServer
from resources.llm_client import LLMClientResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource, read_sql

from .catalog.resource import CatalogResource
from .catalog.variants import Variant
from .engine.build import BuildInfo, ensure_build
from .engine.machine_lock import engine_lock
from .engine.weights import WeightsError, WeightsManifest, load_manifest
from .runner.target import Target
from .settings import REPO_ROOT, subdir

BUILTIN_TEMPLATES = REPO_ROOT / "beyond_vibes_assets" / "engine" / "templates"
Log = Callable[[str], None]


@dataclass(frozen=True)
class MeasuredSpeed:
    """What the latest probe measured; timeouts scale with it. None where no probe exists (API models)."""

    decode_tps: float | None = None
    prompt_tps: float | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where requests for a variant go: a running llama-server, an API, or nothing (all answers cached)."""

    base_url: str | None
    slots: int = 1
    props: dict[str, Any] | None = None
    server: RunningServer | None = None


def served_props(base_url: str | None) -> dict[str, Any] | None:
    """What an OpenAI-compatible endpoint outside the catalog says it serves, when it is a llama-server (its /props:
    model path, build, context): recorded in the run manifest, so results from an endpoint nobody here controls still
    name the file behind them. None for an API that has no /props."""
    if not base_url:
        return None
    from .engine.remote import RemoteEngineError, remote_props

    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        props = remote_props(root, timeout_s=3.0)
    except RemoteEngineError:
        return None
    return props if isinstance(props, dict) and ("model_path" in props or "build_info" in props) else None


@dataclass(frozen=True)
class ResolvedVariant:
    variant: Variant
    build: BuildInfo | None
    weights: WeightsManifest | None
    speed: MeasuredSpeed
    config_file: Path

    @property
    def key(self) -> str:
        return self.variant.key

    @property
    def is_api(self) -> bool:
        return self.variant.is_api

    @property
    def model_sha256(self) -> str | None:
        return self.weights.sha256 if self.weights else None

    @property
    def build_key(self) -> str | None:
        return self.build.key if self.build else None

    @contextlib.contextmanager
    def serve(self, server: LlamaServerResource, store: ObjectStoreResource, log_name: str,
              log: Log, extra_args: list[str] | None = None) -> Iterator[RunningServer]:
        """llama-server for this variant exactly as configured (weights, build, engine args, chat template);
        `extra_args` come last and win (a judge is served with `--parallel 1`)."""
        variant = self.variant
        if self.build is None or self.weights is None or variant.engine is None:
            raise ValueError(f"{self.key} is not a local variant; nothing to serve")
        if variant.engine.url:  # someone else's server: check what it serves, start nothing
            from .engine.remote import check_served_model, remote_props

            url = variant.engine.url.rstrip("/")
            props = remote_props(url)
            log(check_served_model(props, self.weights, self.key, url))
            yield RunningServer(url, 0, None, subdir("logs", self.key) / f"{log_name}.log", 0.0, props, [])
            return
        path = local_copy(store, self.weights)
        args = variant.engine.server_args() + template_args(variant, self.config_file.parent)
        log_path = subdir("logs", self.key) / f"{log_name}.log"
        with engine_lock(f"{self.key} ({log_name})", variant.engine.threads, log), \
                server.serve(self.build.tools["llama-server"], str(path), args, log_path, alias=self.key,
                             extra_args=extra_args) as running:
            log(f"llama-server for {self.key} on {running.base_url} (pid {running.pid}, "
                f"load {running.load_time_s:.2f}s, log {log_path})")
            yield running

    @contextlib.contextmanager
    def endpoint(self, server: LlamaServerResource, store: ObjectStoreResource, log_name: str, log: Log,
                 needed: bool = True) -> Iterator[Endpoint]:
        """Start llama-server only for a local variant that has something to send."""
        if self.is_api and needed and self.variant.model.provider == "openai_compatible":
            yield Endpoint(None, props=served_props(self.variant.model.resolved_base_url))
            return
        if self.is_api or not needed:
            yield Endpoint(None)
            return
        with self.serve(server, store, log_name, log) as running:
            yield Endpoint(running.base_url, running.slots, running.props, running)

    @contextlib.contextmanager
    def serving(self, server: LlamaServerResource, store: ObjectStoreResource, log_name: str, log: Log, *,
                needed: bool = True, slot: Callable[[str], contextlib.AbstractContextManager[Any]] | None = None,
                ) -> Iterator[Endpoint]:
        """The one way a run reaches this variant: the engine pool's slot (a local variant that has something to
        send) and its endpoint, opened and closed together."""
        claim = slot(self.key) if slot is not None and needed and not self.is_api else contextlib.nullcontext()
        with claim, self.endpoint(server, store, log_name, log, needed) as endpoint:
            yield endpoint

    def concurrency(self, requested: int | None = None) -> int:
        """Requests in flight when this variant's answers are produced (engine slots, or the API model's cap),
        whether or not a server runs now: the speed figures of stored answers were measured at it."""
        width = self.variant.engine.parallel if self.variant.engine else self.variant.model.max_concurrency
        return max(1, min(requested or width, width))

    def target(self, clients: LLMClientResource, endpoint: Endpoint, concurrency: int | None = None) -> Target:
        """The request target: the API as configured, or this run's llama-server (width ≤ its slots)."""
        model, v = self.variant.model, self.variant
        if self.is_api:
            if model.api_key_env and not os.environ.get(model.api_key_env):
                raise dg.Failure(description=f"{model.api_key_env} is not set (api_key_env of model '{model.name}' in "
                                             f"{self.config_file}): export it before running this variant")
            client = clients.client(model.provider, model.resolved_base_url, model.resolved_model_id, model.api_key_env)
            return Target(v.key, model.name, v.quant, v.engine_name, client, concurrency or model.max_concurrency, False,
                          thinking=model.thinking)
        client = clients.client("openai_compatible", f"{endpoint.base_url or 'http://127.0.0.1:0'}/v1", v.key)
        width = min(concurrency or endpoint.slots, endpoint.slots)
        return Target(v.key, model.name, v.quant, v.engine_name, client, width, True, self.model_sha256,
                      self.build_key, model.thinking, self.speed.decode_tps, self.speed.prompt_tps)


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


def local_copy(store: ObjectStoreResource, manifest: WeightsManifest) -> Path:
    """A path llama-server can open: the object itself (local store) or a verified download (S3)."""
    return store.fetch(manifest.object_key, subdir("cache", "weights") / f"{manifest.sha256}.gguf")


def engine_build_for(variant: Variant, log: Log) -> BuildInfo | None:
    """The cached llama.cpp build of the variant's engine (built on first use); None for API models."""
    if variant.is_api or variant.engine is None:
        return None
    if variant.engine.url:
        from .engine.remote import remote_build

        return remote_build(variant.engine.url)
    return ensure_build(variant.engine, log=log)


def stored_weights(variant: Variant, store: ObjectStoreResource) -> WeightsManifest | None:
    if variant.is_api:
        return None
    manifest = load_manifest(store, variant.model.name, variant.quant)
    if manifest is None:
        raise WeightsError(f"no weights stored for {variant.weights_key}; materialize model_weights[{variant.key}] first")
    return manifest


def measured_speed(warehouse: WarehouseResource | None, variant_key: str) -> MeasuredSpeed:
    if warehouse is None:
        return MeasuredSpeed()
    rows = warehouse.query(read_sql("queries/probe_speed.sql"), [variant_key])
    if not rows:
        return MeasuredSpeed()
    return MeasuredSpeed(rows[0]["decode_tps"], rows[0]["prompt_tps"])


def resolve_variant(catalog: CatalogResource, variant_key: str, *, log: Log, store: ObjectStoreResource | None = None,
                    warehouse: WarehouseResource | None = None, speed: MeasuredSpeed | None = None) -> ResolvedVariant:
    """Everything a run needs about one variant, looked up once. Without `store`, weights are not looked up
    (engine_build, model_weights); without `warehouse`, no measured speed (engine_probe measures it) unless the
    caller looked it up already (`speed`, read with others on one connection)."""
    variant = catalog.variant(variant_key)
    build = engine_build_for(variant, log)
    weights = stored_weights(variant, store) if store is not None else None
    return ResolvedVariant(variant, build, weights, speed if speed is not None else measured_speed(warehouse, variant_key),
                           catalog.config_file())
