"""lm-evaluation-harness tasks as a partition family (variant × lmeval): lm-eval builds prompts, filters and metrics;
answers come from the platform's response store or the variant's endpoint. Each task is first tried offline (all
answers stored: no engine started); the variant is served once for the tasks that still need answers.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from typing import Any

from ..catalog.models_config import LmEvalTask
from ..engine.manifest import harness_commit
from ..history import answers_digest, load_at_start, new_measurement
from ..lmeval.tasks import NeedsEndpoint
from ..resolve import Endpoint, ResolvedVariant, resolve_variant
from ..runner import progress as progress_hooks
from ..runner.family import Hooks, Prepared, Recorded, ServedFamily


def applies(patterns: list[str] | None, variant: str) -> bool:
    return patterns is None or any(fnmatch.fnmatch(variant, p) for p in patterns)


@dataclass
class _Plan:
    resolved: ResolvedVariant
    done: dict[str, dict[str, Any] | BaseException] = field(default_factory=dict)  # evaluated offline (or failed)
    need: list[str] = field(default_factory=list)  # tasks whose answers are not all stored


class LmEvalFamily(ServedFamily):
    asset, dimension, coverage_check, history_kind, speed_checks = ("lm_eval_results", "lmeval", "every_document_once",
                                                                    "lmeval", False)

    def __init__(self, *, catalog: Any, object_store: Any, llama_server: Any, llm_clients: Any, warehouse: Any):
        super().__init__(llama_server, object_store)
        self.catalog, self.llm_clients, self.warehouse = catalog, llm_clients, warehouse
        self.config = catalog.catalog().lm_eval
        self.load: float | None = None

    def begin(self, variants: list[str]) -> None:
        self.load = load_at_start()

    def definition(self, name: str) -> LmEvalTask:
        return self.config.lm_eval_task(name)

    def prepare(self, variant: str, tasks: dict[str, LmEvalTask], hooks: Hooks) -> Prepared:
        """Every applicable task evaluated offline now; those that need the endpoint are what is pending."""
        from ..lmeval.run import evaluate  # lm-eval is imported by the run that needs it, not by the code location

        resolved = resolve_variant(self.catalog, variant, log=hooks.log, store=self.object_store, warehouse=self.warehouse)
        plan = _Plan(resolved)
        offline = resolved.target(self.llm_clients, Endpoint(None))
        for name, task in tasks.items():
            if not applies(task.variants, variant):
                continue
            try:
                plan.done[name] = evaluate(task, offline, base_url=None, run_id=hooks.run_id,
                                           include_path=self.config.include_path, offline=True)
            except NeedsEndpoint:
                plan.need.append(name)
            except Exception as exc:  # noqa: BLE001 - an unsupported or broken task fails alone
                plan.done[name] = exc
        return Prepared(variant, tasks, len(plan.need), plan, by_name={name: int(name in plan.need) for name in tasks})

    def run_variant(self, prepared: Prepared, endpoint: Endpoint, hooks: Hooks):
        from ..lmeval.run import evaluate

        plan: _Plan = prepared.state
        resolved = plan.resolved
        for name, task in prepared.definitions.items():
            if not applies(task.variants, prepared.variant):
                yield name, Recorded({"applies": False, "variants": str(task.variants)}, history=False)
                continue
            out = plan.done.get(name)
            if out is None:
                label = f"{prepared.variant} {name}"
                try:
                    out = evaluate(task, resolved.target(self.llm_clients, endpoint), base_url=endpoint.base_url,
                                   run_id=hooks.run_id, include_path=self.config.include_path,
                                   progress=lambda d, t, n, _l=label: progress_hooks.report(d, t, f"{_l}: {n}"))
                except Exception as exc:  # noqa: BLE001
                    out = exc
            if isinstance(out, BaseException):
                yield name, out
                continue
            try:
                yield name, self.record(task, out, resolved, hooks.run_id)
            except Exception as exc:  # noqa: BLE001
                yield name, exc

    def record(self, task: LmEvalTask, out: dict[str, Any], resolved: ResolvedVariant, run_id: str) -> Recorded:
        """Replace the partition's rows and aggregate, append one history row, all in one transaction."""
        from ..lmeval.run import history_fields, primary_metric, sample_rows

        results = out["results"].get(task.name, {})
        metric, value, stderr = primary_metric(results)
        v, key = resolved.variant, resolved.key
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        ident = {"variant": key, "model": v.model.name, "quant": v.quant, "engine": v.engine_name,
                 "model_sha256": resolved.model_sha256, "engine_build": resolved.build_key, "scored_at": now}
        documents = out["samples"].get(task.name, [])
        rows = sample_rows(task, documents, out["lm"], ident, metric, out["version"])
        counts = history_fields(rows)
        commit, dirty = harness_commit()
        score = {"variant": key, "lm_task": task.name, "task_version": out["version"], "metric": metric,
                 "value": value, "stderr": stderr, "n": len(rows), "num_fewshot": task.num_fewshot,
                 "task_limit": task.limit, "apply_chat_template": task.apply_chat_template,
                 "gen_kwargs": json.dumps(task.gen_kwargs, sort_keys=True), "lm_eval_version": package_version("lm_eval"),
                 "results": json.dumps(results, default=str), "model_sha256": resolved.model_sha256,
                 "engine_build": resolved.build_key, "run_id": run_id, "created_at": now}
        history = {"kind": "lmeval", "variant": key, "model": v.model.name, "quant": v.quant,
                   "engine": v.engine_name, "task": task.name, **counts, "rate": value,
                   "median_latency_s": None, "load_at_start": self.load, "harness_commit": commit,
                   "harness_dirty": dirty, "model_sha256": resolved.model_sha256, "engine_build": resolved.build_key,
                   "task_fingerprint": f"{task.name}@{out['version']}", "sampling_params": score["gen_kwargs"],
                   "answers_digest": answers_digest(f"{r.get('cache_key')}@{r.get('run_id')}" for r in rows),
                   "run_id": run_id,
                   "recorded_at": now}
        where = {"variant": key, "lm_task": task.name}
        new = new_measurement(self.warehouse, "lmeval", key, task.name, history["answers_digest"])
        self.warehouse.replace_partitions([("lmeval_samples", where, rows), ("lmeval_scores", where, [score])],
                                          appends=[("score_history", [history] if new else [])])
        lm = out["lm"]
        docs = [r.get("doc_id") for r in rows]
        return Recorded({"metric": metric, "value": value, "stderr": stderr, "n": len(rows),
                         "failed_calls": counts["n_failed_calls"], "sent": lm.sent, "cached": lm.cached,
                         "documents": len(rows), "task_version": out["version"]},
                        len(rows), len(set(docs)), len(documents))
