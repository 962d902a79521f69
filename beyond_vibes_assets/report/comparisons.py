"""Which variants the report compares pairwise, and the paired statistics for each pair (pure).

Each quant against the highest-precision quant of the same model on the same engine; each engine config
against the model's default (first listed) engine on the same quant. Pairs run over the items both
variants answered (failed calls left out), with McNemar's exact test and a paired bootstrap interval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..catalog.quants import highest_precision
from ..scoring.outcomes import MACHINE, owner
from ..stats import compare_paired


def plan_pairs(variants: Sequence[dict[str, Any]], default_engine: dict[str, str]) -> list[tuple[str, str, str]]:
    """(reference, other, why) for the variants present; variants = rows with variant, model, quant, engine."""
    pairs = []
    by_engine: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    by_quant: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for v in variants:
        by_engine[(v["model"], v["engine"])][v["quant"]] = v["variant"]
        by_quant[(v["model"], v["quant"])][v["engine"]] = v["variant"]
    for (_model, engine), quants in sorted(by_engine.items()):
        if len(quants) > 1:
            ref = highest_precision(list(quants))
            pairs += [(quants[ref], quants[q], f"quant vs {ref} on {engine}") for q in sorted(quants) if q != ref]
    for (model, _quant), engines in sorted(by_quant.items()):
        default = default_engine.get(model)
        if len(engines) > 1 and default in engines:
            pairs += [(engines[default], engines[e], f"engine vs {default}") for e in sorted(engines) if e != default]
    return pairs


def paired_results(pairs: Sequence[tuple[str, str, str]], items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statistics for each planned pair from item rows (variant, task, sample_id, passed, failure_mode), counted
    by the one rule: a model failure is a wrong answer; an item a side lost to the machine is dropped from the pair,
    and how many each side dropped is reported."""
    answers: dict[str, dict[tuple[str, str], bool]] = defaultdict(dict)
    dropped: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in items:
        key = (r["task"], r["sample_id"])
        if owner(r.get("failure_mode")) == MACHINE:
            dropped[r["variant"]].add(key)
        else:
            answers[r["variant"]][key] = bool(r["passed"]) and not r.get("failure_mode")
    out = []
    for a, b, why in pairs:
        shared = sorted(set(answers[a]) & set(answers[b]))
        stats = compare_paired([(answers[a][k], answers[b][k]) for k in shared])
        out.append({"a": a, "b": b, "why": why, **stats, "dropped_a": len(dropped[a] & (set(answers[b]) | dropped[b])),
                    "dropped_b": len(dropped[b] & (set(answers[a]) | dropped[a]))})
    return out
