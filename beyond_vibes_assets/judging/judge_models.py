"""Judges from models.yaml's `judges:` section, resolved once per run like any variant: a local judge is its
variant's llama-server started with one slot (temperature 0 is deterministic only with one slot), an API judge is
its model's endpoint. The identity (variant, model file hash, engine build) keys every cache.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from resources.llama_server import LlamaServerResource
from resources.object_store import ObjectStoreResource
from resources.warehouse import WarehouseResource

from ..catalog.models_config import JudgeModel
from ..catalog.resource import CatalogResource
from ..resolve import ResolvedVariant, resolve_variant
from .program import judge_alias, judge_lm

Log = Callable[[str], None]
ONE_SLOT = ["--parallel", "1"]


@dataclass(frozen=True)
class ResolvedJudge:
    config: JudgeModel
    resolved: ResolvedVariant

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def identity(self) -> str:
        r = self.resolved
        return judge_alias(self.name, r.key, r.model_sha256, r.build_key)

    def applies_to(self, rubric: str) -> bool:
        return self.config.rubrics is None or rubric in self.config.rubrics

    @contextlib.contextmanager
    def lm(self, llama_server: LlamaServerResource, store: ObjectStoreResource, log: Log) -> Iterator[tuple]:
        """(DSPy LM, base URL) of a running judge: its own one-slot llama-server, or the API model's endpoint."""
        r = self.resolved
        if r.is_api:
            model = r.variant.model
            if model.api_key_env and not os.environ.get(model.api_key_env):
                raise RuntimeError(f"{model.api_key_env} is not set (judge '{self.name}' uses API model '{model.name}')")
            from .program import dspy_module

            prefix = "anthropic" if model.provider == "anthropic" else "openai"
            yield dspy_module().LM(f"{prefix}/{model.resolved_model_id}", api_base=model.resolved_base_url,
                                   api_key=os.environ.get(model.api_key_env or "", "") or "none", temperature=0.0,
                                   max_tokens=256, num_retries=2, cache=True), None
            return
        with r.serve(llama_server, store, f"judge-{self.name}", log, extra_args=ONE_SLOT) as running:
            yield judge_lm(f"{running.base_url}/v1", self.identity), f"{running.base_url}/v1"


def variant_of(judge: JudgeModel, catalog: CatalogResource) -> str:
    if judge.variant:
        return judge.variant
    from partitions.keys import API_QUANT, make_variant_key

    model = catalog.catalog().model(judge.model or "")
    return make_variant_key(model.name, API_QUANT, model.provider)


def resolve_judges(catalog: CatalogResource, *, log: Log, store: ObjectStoreResource,
                   warehouse: WarehouseResource | None = None) -> list[ResolvedJudge]:
    """Every configured judge, resolved (build, weights) once."""
    return [ResolvedJudge(j, resolve_variant(catalog, variant_of(j, catalog), log=log, store=store, warehouse=warehouse))
            for j in catalog.catalog().judges]
