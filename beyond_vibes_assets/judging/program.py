"""The judge as a DSPy program: one `Predict` over a typed signature (criterion + evidence -> rationale, 1-5 score),
one program per rubric (the criterion is an input, so a rubric's criteria share demos).

DSPy is imported lazily (seconds of import) with its cache under BEYOND_VIBES_HOME. Its cache key ignores the
base URL, so the LM's name carries the judge's model file hash, quant and engine build: two servers with the same
alias never share answers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from ..catalog.rubrics import Criterion
from ..settings import subdir

MAX_TOKENS = 200
# The verdict as a JSON schema: llama-server turns it into a grammar, so even a tiny judge answers in shape
# (a rationale short enough to finish within MAX_TOKENS, then a score of 1-5).
VERDICT_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["rationale", "score"],
                  "properties": {"rationale": {"type": "string", "maxLength": 160},
                                 "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}}
INSTRUCTIONS = ("You are a strict reviewer. Read the evidence, judge it on the criterion using its anchored 1-5 scale, "
                "give a one-line rationale, then the score (a single integer from 1 to 5).")


def dspy_module():
    """`import dspy` with its disk cache under the home folder (set before the import, which creates the cache)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    cache_dir = subdir("cache", "dspy")
    os.environ["DSPY_CACHEDIR"] = str(cache_dir)
    import dspy

    if getattr(dspy_module, "_configured", None) != str(cache_dir):
        dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=False, disk_cache_dir=str(cache_dir))
        dspy_module._configured = str(cache_dir)  # type: ignore[attr-defined]  # noqa: SLF001 - our own marker
    return dspy


@functools.cache
def signature():
    dspy = dspy_module()

    class JudgeCriterion(dspy.Signature):
        __doc__ = INSTRUCTIONS
        criterion: str = dspy.InputField(desc="the question and its anchored 1-5 scale")
        evidence: str = dspy.InputField(desc="what the judge sees of the episode")
        rationale: str = dspy.OutputField(desc="one line: why this score")
        score: int = dspy.OutputField(desc="1, 2, 3, 4 or 5")

    return JudgeCriterion


@functools.cache
def adapter():
    """DSPy's JSON adapter with the verdict schema as structured output on every judge call (no second, fallback
    call); other signatures (an optimizer's proposals) keep DSPy's own schema for their fields."""
    dspy = dspy_module()

    class JudgeAdapter(dspy.JSONAdapter):
        def _prepare_response_format(self, lm, lm_kwargs, signature):
            if set(signature.output_fields) != set(VERDICT_SCHEMA["properties"]):
                # an optimizer's own calls (MIPROv2 proposing instructions): their own schema, not the verdict's
                return super()._prepare_response_format(lm, lm_kwargs, signature)
            lm_kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "verdict", "strict": True, "schema": VERDICT_SCHEMA}}

    return JudgeAdapter()


def judge_context(lm: Any):
    """The DSPy settings every judge call and compilation runs under."""
    return dspy_module().context(lm=lm, adapter=adapter())


def new_program():
    """The uncompiled baseline: the signature alone, no demos."""
    return dspy_module().Predict(signature())


def criterion_text(criterion: Criterion) -> str:
    scale = "\n".join(f"{score}: {text}" for score, text in sorted(criterion.anchors.items()))
    return f"{criterion.question}\n{scale}"


def judge_lm(base_url: str, alias: str, timeout_s: float = 120.0, cache: bool = True):
    """A DSPy LM for an OpenAI-compatible judge endpoint at temperature 0. `alias` names the model file and build."""
    dspy = dspy_module()
    return dspy.LM(f"openai/{alias}", api_base=base_url, api_key="local", temperature=0.0, max_tokens=MAX_TOKENS,
                   num_retries=0, timeout=timeout_s, cache=cache)


def judge_alias(judge_name: str, variant: str, model_sha256: str | None, build: str | None) -> str:
    """What DSPy's cache keys on: the judge, its variant (model~quant~engine), file hash and engine build."""
    return f"{judge_name}@{variant}@{(model_sha256 or 'api')[:16]}@{build or 'api'}"


@dataclass(frozen=True)
class Verdict:
    """One judge call: a score and rationale, or a failure mode (never both)."""

    score: int | None
    rationale: str
    failure_mode: str | None
    latency_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "rationale": self.rationale, "failure_mode": self.failure_mode,
                "latency_s": self.latency_s}


ENDPOINT_ERRORS = ("connection", "apierror", "serviceunavailable", "internalserver", "ratelimit", "transport",
                   "servererror", "autherror", "billingerror", "notconfigured")


def failure_mode_of(exc: BaseException) -> str:
    """An exception from a judge call as a failure mode: timeout, endpoint_failure or unparseable. Read from the
    exception's class names (litellm's and DSPy's own LM errors, e.g. LMServerError for an HTTP 5xx) and its HTTP
    status, so a dead or erroring endpoint is never stored as the judge's unparseable answer."""
    names = " ".join(c.__name__ for c in type(exc).__mro__).lower()
    text = str(exc).lower()
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if "timeout" in names or "timed out" in text:
        return "timeout"
    if any(k in names for k in ENDPOINT_ERRORS) or (isinstance(status, int) and (status == 429 or status >= 500)):
        return "endpoint_failure"
    return "unparseable"


def verdict_from(prediction: Any, started: float) -> Verdict:
    latency = time.perf_counter() - started
    rationale = str(getattr(prediction, "rationale", "") or "").strip()
    try:
        score = int(prediction.score)
    except (TypeError, ValueError):
        return Verdict(None, rationale, "unparseable", latency)
    if not 1 <= score <= 5:
        return Verdict(None, rationale, "out_of_range", latency)
    return Verdict(score, rationale, None, latency)


def judge_once(program: Any, lm: Any, criterion: str, evidence: str) -> Verdict:
    """Call the program once; every failure is a failure mode, never a score."""
    started = time.perf_counter()
    try:
        with judge_context(lm):
            prediction = program(criterion=criterion, evidence=evidence)
    except Exception as exc:  # noqa: BLE001 - recorded as the call's failure mode
        return Verdict(None, f"{type(exc).__name__}: {str(exc)[:300]}", failure_mode_of(exc), time.perf_counter() - started)
    return verdict_from(prediction, started)


def program_bytes(program: Any) -> tuple[bytes, str]:
    """The program's state as canonical JSON and its hash (what judge_program's data version is made of).

    DSPy's own save adds library versions; the state alone (instructions, fields, demos) is what judges, so two
    compilations that found the same demos hash the same."""
    data = json.dumps(program.dump_state(), sort_keys=True, indent=1, default=str).encode()
    return data, hashlib.sha256(data).hexdigest()


def load_program(data: bytes) -> Any:
    program = new_program()
    program.load_state(json.loads(data))
    return program
