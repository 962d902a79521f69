"""The second judge backend: the same rubric through MLflow's `make_judge`, pointed at the same judge endpoint, scored
on the same held-out labels, so the report puts the DSPy-compiled judge and MLflow's judge side by side.

MLflow reaches the endpoint through LiteLLM's OpenAI route; a local llama-server needs no key, so a placeholder is
set for the call only when none exists (never a real key, never logged).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from ..catalog.rubrics import Rubric
from .calibration import Agreement, tally
from .program import INSTRUCTIONS, MAX_TOKENS

TEMPLATE = INSTRUCTIONS + "\n\nCriterion and its scale:\n{{ inputs }}\n\nEvidence:\n{{ outputs }}"


@contextlib.contextmanager
def _placeholder_key() -> Iterator[None]:
    added = "OPENAI_API_KEY" not in os.environ
    if added:
        os.environ["OPENAI_API_KEY"] = "local-judge"
    try:
        yield
    finally:
        if added:
            os.environ.pop("OPENAI_API_KEY", None)


def mlflow_judge(rubric: Rubric, alias: str, base_url: str):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("MLFLOW_MODEL_CATALOG_URI", "")  # offline: no fetch of MLflow's model catalog from GitHub
    from mlflow.genai.judges import make_judge

    return make_judge(name=f"{rubric.name}-mlflow", instructions=TEMPLATE, model=f"openai:/{alias}",
                      feedback_value_type=int, base_url=base_url,
                      inference_params={"temperature": 0.0, "max_tokens": MAX_TOKENS})


def verdict(judge: Any, criterion: str, evidence: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        feedback = judge(inputs={"criterion": criterion}, outputs={"evidence": evidence})
    except Exception as exc:  # noqa: BLE001 - a failed call is a failure mode
        text = str(exc).lower()
        mode = "unparseable" if "parse" in text else "timeout" if "timed out" in text or "timeout" in text else "endpoint_failure"
        return {"score": None, "rationale": f"{type(exc).__name__}: {str(exc)[:300]}", "failure_mode": mode,
                "latency_s": time.perf_counter() - started}
    value = getattr(feedback, "value", None)
    error = getattr(feedback, "error", None)
    try:
        score = int(value) if value is not None and not error else None
    except (TypeError, ValueError):
        score = None
    mode = None if score is not None and 1 <= score <= 5 else ("out_of_range" if score is not None else "unparseable")
    return {"score": score if mode is None else None, "rationale": str(getattr(feedback, "rationale", "") or error or ""),
            "failure_mode": mode, "latency_s": time.perf_counter() - started}


def mlflow_agreement(rubric: Rubric, held_out: list[Any], alias: str, base_url: str) -> Agreement:
    """Agreement of MLflow's make_judge on the held-out examples (same evidence as the DSPy judge saw)."""
    with _placeholder_key():
        judge = mlflow_judge(rubric, alias, base_url)
        return tally(held_out, lambda ex: verdict(judge, ex.criterion, ex.evidence))
