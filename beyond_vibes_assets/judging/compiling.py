"""What judge_program does for the rubrics of a run: reuse a stored program where nothing it depends on changed,
otherwise serve each judge once and, per rubric, measure the uncompiled baseline, compile, measure the compiled
program (and the MLflow judge) on the held-out labels, save it, and record the agreement rows. A run that does not
ask for the baseline or MLflow comparison (the default demo) skips it; a later run that asks measures only it.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..catalog.labels import Label, load_labels
from ..catalog.rubrics import Rubric
from ..engine.manifest import harness_commit
from ..runner import progress as progress_hooks
from ..runner.family import Hooks
from . import store as program_store
from .calibration import compile_program, examples, measure
from .judge_models import ResolvedJudge, resolve_judges
from .labels import refuse_evidence_mismatch
from .program import new_program, program_bytes

# Below this many held-out labels a kappa decides little (7 labels at kappa 0.64 span 0.00-0.86): not trusted.
MIN_HELD_OUT = 20


def trust(figures: dict[str, Any], n_held_out: int, min_kappa: float, min_coverage: float) -> tuple[bool, str]:
    """Whether a judge's agreement on held-out labels is good enough to show its scores as trusted (pure): decided on
    the low end of kappa's 95% bootstrap interval, so a good kappa on a handful of labels does not pass by luck."""
    if n_held_out < MIN_HELD_OUT:
        return False, f"only {n_held_out} held-out label(s) (need {MIN_HELD_OUT})"
    if figures.get("coverage", 0) < min_coverage:
        return False, f"scored {figures.get('coverage', 0):.0%} of held-out labels (need {min_coverage:.0%})"
    kappa, low, high = figures.get("kappa"), figures.get("kappa_low"), figures.get("kappa_high")
    if kappa is None or kappa != kappa:
        return False, "kappa undefined (too few scored labels, or one score given to everything)"
    if low is None or low != low:
        return False, f"kappa {kappa:.2f} but its interval is undefined on {n_held_out} labels"
    span = f"kappa {kappa:.2f} (95% {low:.2f}-{high:.2f})"
    if low < min_kappa:
        return False, f"{span}: its low end is below {min_kappa:.2f}"
    return True, f"{span} >= {min_kappa:.2f} at its low end"


@dataclass
class Plan:
    rubric: Rubric
    labels: list[Label]
    labels_hash: str
    judge: ResolvedJudge
    key: str
    manifest: dict[str, Any] | None = None


@dataclass
class CompileOutcome:
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    trust_table: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_trusted(self) -> bool:
        return bool(self.trust_table) and all(r["trusted"] for r in self.trust_table)


def _compile_one(plan: Plan, lm: Any, base_url: str | None, config: Any, store, log) -> dict[str, Any]:
    budget = plan.judge.config.evidence_chars
    train, held_out = _split(plan)
    program = compile_program(lm, train, config.optimizer, config.max_demos)
    compiled = _measure(plan, lm, program, held_out, "compiled", log)
    data, program_hash = program_bytes(program)
    manifest: dict[str, Any] = {
        "program_hash": program_hash, "rubric_fingerprint": plan.rubric.fingerprint, "labels_hash": plan.labels_hash,
        "judge_identity": plan.judge.identity, "optimizer": config.optimizer, "max_demos": config.max_demos,
        "evidence_chars": budget, "n_train": len(train), "n_held_out": len(held_out), "demos": len(program.demos),
        "compiled": compiled.to_dict(), "verdicts": {"compiled": compiled.verdicts},
        "compiled_at": datetime.now(timezone.utc).isoformat(),
    }
    _complete(plan, manifest, held_out, lm, base_url, config, log)
    program_store.save(store, plan.rubric.name, plan.judge.name, plan.key, data, manifest)
    return manifest


def _split(plan: Plan) -> tuple[list, list]:
    exs = examples(plan.rubric, plan.labels, plan.judge.config.evidence_chars)
    return ([e for e, label in zip(exs, plan.labels) if label.split == "train"],
            [e for e, label in zip(exs, plan.labels) if label.split == "held_out"])


def _measure(plan: Plan, lm: Any, program: Any, held_out: list, what: str, log) -> Any:
    calls = [0]

    def tick() -> None:
        calls[0] += 1
        progress_hooks.report(calls[0], len(held_out), f"{plan.rubric.name} / {plan.judge.name} ({what})")

    figures = measure(program, lm, held_out, on_call=tick)
    log(f"{plan.rubric.name} / {plan.judge.name}: {what} {figures.to_dict()}")
    return figures


def _lacking(manifest: dict[str, Any], config: Any, local: bool) -> list[str]:
    """The comparisons this run asks for that the manifest lacks: the uncompiled baseline, and MLflow's judge (which
    needs a local judge's URL). A stored program lacking one is completed, not recompiled."""
    return [what for what, asked in (("baseline", config.baseline), ("mlflow", config.mlflow_judge and local))
            if asked and what not in manifest]


def _complete(plan: Plan, manifest: dict[str, Any], held_out: list, lm: Any, base_url: str | None, config: Any,
              log) -> None:
    """The comparisons beside the compiled program's agreement, where asked for and not yet measured: the uncompiled
    baseline (what compiling changed) and MLflow's make_judge, on the same held-out labels."""
    lacking = _lacking(manifest, config, base_url is not None)
    if "baseline" in lacking:
        baseline = _measure(plan, lm, new_program(), held_out, "baseline", log)
        manifest["baseline"] = baseline.to_dict()
        manifest["verdicts"] = {**manifest.get("verdicts", {}), "baseline": baseline.verdicts}
    if "mlflow" in lacking:
        from .mlflow_judge import mlflow_agreement

        manifest["mlflow"] = mlflow_agreement(plan.rubric, held_out, plan.judge.identity,
                                              f"{base_url}/chat/completions").to_dict()
        log(f"{plan.rubric.name} / {plan.judge.name}: MLflow make_judge {manifest['mlflow']}")


def compile_rubrics(names: list[str], config: Any, catalog, store, llama_server, warehouse, hooks: Hooks) -> CompileOutcome:
    """Every rubric of `names` compiled (or its stored program reused) for every judge that applies to it."""
    out = CompileOutcome()
    try:
        judges = resolve_judges(catalog, log=hooks.log, store=store)
        if not judges:
            raise ValueError(f"no judges in {catalog.config_file()}: add a `judges:` entry (a local variant or an API model)")
    except Exception as exc:  # noqa: BLE001 - no judge: every rubric of the run fails with the reason
        out.failed = {n: f"{type(exc).__name__}: {exc}" for n in names}
        return out
    plans: list[Plan] = []
    for name in names:
        try:
            rubric = catalog.rubric(name)
            path = catalog.labels_file(name)
            labels = load_labels(path, rubric)
            labels_hash = program_store.labels_hash(path)
            applicable = [j for j in judges if j.applies_to(name)]
            if not applicable:
                raise ValueError(f"no judge in models.yaml applies to rubric {name!r} (see each judge's `rubrics:`)")
            for judge in applicable:
                refuse_evidence_mismatch(path, rubric, labels, judge.config.evidence_chars, judge.name)
                key = program_store.compile_key(rubric.fingerprint, labels_hash, judge.identity, config.optimizer,
                                                config.max_demos, judge.config.evidence_chars)
                plans.append(Plan(rubric, labels, labels_hash, judge, key,
                                  program_store.load_manifest(store, name, judge.name, key)))
        except Exception as exc:  # noqa: BLE001 - a broken rubric or label file fails alone
            out.failed[name] = f"{type(exc).__name__}: {exc}"
    for judge in judges:
        todo = [p for p in plans if p.judge is judge and p.rubric.name not in out.failed and (
            p.manifest is None or _lacking(p.manifest, config, not judge.resolved.is_api))]
        if not todo:
            continue
        hooks.log(f"judge {judge.name}: compiling {sum(p.manifest is None for p in todo)} rubric program(s), "
                  f"completing {sum(p.manifest is not None for p in todo)}")
        slot = hooks.slot(judge.resolved.key) if not judge.resolved.is_api else contextlib.nullcontext()
        try:
            with slot, judge.lm(llama_server, store, hooks.log) as (lm, base_url):
                for plan in todo:
                    try:
                        if plan.manifest is None:
                            plan.manifest = _compile_one(plan, lm, base_url, config, store, hooks.log)
                        else:  # the stored program stays; only the comparisons it lacks are measured
                            _complete(plan, plan.manifest, _split(plan)[1], lm, base_url, config, hooks.log)
                            program_store.save_manifest(store, plan.rubric.name, plan.judge.name, plan.key,
                                                        plan.manifest)
                    except Exception as exc:  # noqa: BLE001
                        out.failed[plan.rubric.name] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - the judge would not start: its rubrics fail
            for plan in todo:
                out.failed.setdefault(plan.rubric.name, f"judge {judge.name}: {type(exc).__name__}: {exc}")
    _record(hooks.run_id, config, plans, out, warehouse, store)
    return out


def _rows(plan: Plan, config: Any, run_id: str) -> list[dict[str, Any]]:
    m = plan.manifest or {}
    base = {"rubric": plan.rubric.name, "judge": plan.judge.name, "rubric_fingerprint": plan.rubric.fingerprint,
            "labels_hash": plan.labels_hash, "optimizer": config.optimizer, "n_train": m.get("n_train"),
            "n_held_out": m.get("n_held_out"), "min_kappa": config.min_kappa,
            "judge_model_sha256": plan.judge.resolved.model_sha256, "judge_engine_build": plan.judge.resolved.build_key,
            "run_id": run_id, "compiled_at": datetime.fromisoformat(m["compiled_at"]).replace(tzinfo=None)}
    rows = []
    for backend, program, figures_key in (("dspy", "compiled", "compiled"), ("dspy", "baseline", "baseline"),
                                          ("mlflow", "make_judge", "mlflow")):
        figures = m.get(figures_key)
        if figures is None:
            continue
        trusted, reason = trust(figures, m.get("n_held_out", 0), config.min_kappa, config.min_coverage)
        rows.append({**base, "backend": backend, "program": program,
                     "program_hash": m["program_hash"] if program == "compiled" else None,
                     "program_key": program_store.program_object_key(plan.rubric.name, plan.judge.name, plan.key)
                     if program == "compiled" else None,
                     "scored": figures.get("scored"), "coverage": figures.get("coverage"),
                     "kappa": _num(figures.get("kappa")), "kappa_low": _num(figures.get("kappa_low")),
                     "kappa_high": _num(figures.get("kappa_high")), "spearman": _num(figures.get("spearman")),
                     "within_1": figures.get("within_1"), "bias": figures.get("bias"),
                     "failures": str(figures.get("failures") or {}), "trusted": trusted, "trust_reason": reason})
    return rows


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def _record(run_id: str, config, plans: list[Plan], out: CompileOutcome, warehouse, store) -> None:
    by_rubric: dict[str, list[Plan]] = {}
    for plan in plans:
        by_rubric.setdefault(plan.rubric.name, []).append(plan)
    commit, dirty = harness_commit()
    for name, group in by_rubric.items():
        if name in out.failed or any(p.manifest is None for p in group):
            continue
        rows = [r for p in group for r in _rows(p, config, run_id)]
        warehouse.replace_partition("judge_programs", {"rubric": name}, rows)
        hashes = sorted(f"{p.judge.name}:{p.manifest['program_hash']}" for p in group)  # type: ignore[index]
        data_version = hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:32]
        metadata: dict[str, Any] = {"programs": hashes, "harness_commit": commit,
                                    "harness_dirty": dirty}
        for p in group:
            m = p.manifest or {}
            compiled_row = next(r for r in rows if r["judge"] == p.judge.name and r["program"] == "compiled")
            out.trust_table.append({"rubric": name, "judge": p.judge.name, "trusted": compiled_row["trusted"],
                                    "reason": compiled_row["trust_reason"], "kappa": compiled_row["kappa"],
                                    "baseline_kappa": _num((m.get("baseline") or {}).get("kappa"))})
            metadata[f"{p.judge.name}/agreement"] = (
                {"compiled": {k: v for k, v in m["compiled"].items()},
                 **({"baseline": m["baseline"]} if "baseline" in m else {}),
                 **({"mlflow": m["mlflow"]} if "mlflow" in m else {}),
                 "n_train": m["n_train"], "n_held_out": m["n_held_out"], "demos": m["demos"],
                 "trusted": compiled_row["trusted"], "reason": compiled_row["trust_reason"]})
            metadata[f"{p.judge.name}/program"] = store.uri(program_store.program_object_key(name, p.judge.name, p.key))
        out.done[name] = {"metadata": metadata, "data_version": data_version}
