"""What each verifier's `check` may contain, as pydantic models validated when a pack is loaded.

A wrong type or a misspelled key is then a validation error naming the file, line and field, not a
"verifier error" verdict discovered while scoring. The verifiers themselves stay pure functions of
(response, dict).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .constraints import CONSTRAINT_TYPES

Scalar = str | int | float | bool


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _valid_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"invalid JSON Schema: {exc.message}") from None
    return schema


def _valid_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


class ExactSpec(Spec):
    answer: Scalar
    accept: list[Scalar] = Field(default_factory=list)
    case_sensitive: bool = False
    allow_contained: bool = False


class NumericSpec(Spec):
    answer: float
    tolerance: float = Field(default=0.0, ge=0)
    rel_tolerance: float = Field(default=0.0, ge=0)


class RegexSpec(Spec):
    pattern: str
    ignore_case: bool = True
    must_match: bool = True
    _v = field_validator("pattern")(_valid_regex)


class ChoiceSpec(Spec):
    answer: str
    choices: list[str] = Field(min_length=2)

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> ChoiceSpec:
        if self.answer not in self.choices:
            raise ValueError("answer must be one of choices")
        return self


class MentionsSpec(Spec):
    must: list[str] = Field(default_factory=list)
    must_not: list[str] = Field(default_factory=list)
    max_words: int | None = Field(default=None, ge=1)


class JsonSchemaSpec(Spec):
    json_schema: dict[str, Any] = Field(alias="schema")
    expect: dict[str, Any] = Field(default_factory=dict)
    _v = field_validator("json_schema")(_valid_schema)


class YamlSpec(Spec):
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    expect: dict[str, Any] = Field(default_factory=dict)
    _v = field_validator("json_schema")(_valid_schema)


class MarkdownTableSpec(Spec):
    columns: list[str] = Field(min_length=1)
    min_rows: int = Field(default=1, ge=0)
    cells: list[Scalar] = Field(default_factory=list)


class FieldsSpec(Spec):
    fields: dict[str, Any] = Field(min_length=1)
    pass_threshold: float = Field(default=1.0, ge=0, le=1)


class Constraint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal[CONSTRAINT_TYPES]  # type: ignore[valid-type]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    words: list[str] | None = None
    text: str | None = None
    letter: str | None = Field(default=None, min_length=1, max_length=1)
    pattern: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> Constraint:
        need = {"include": "words", "exclude": "words", "starts_with": "text", "ends_with": "text",
                "letter_frequency": "letter", "regex": "pattern"}.get(self.type)
        if need and getattr(self, need) is None:
            raise ValueError(f"constraint '{self.type}' needs '{need}'")
        if self.pattern is not None:
            _valid_regex(self.pattern)
        return self


class ConstraintsSpec(Spec):
    constraints: list[Constraint] = Field(min_length=1)


class ToolCallSpec(Spec):
    tool: str | None  # None: a trap where no tool should be called
    arguments: dict[str, Any] = Field(default_factory=dict)
    exact_args: bool = False


def _relative(path: str) -> str:
    if path.startswith("/") or ".." in path.split("/"):
        raise ValueError(f"{path!r} must be a path inside the pack folder")
    return path


class ExecLimits(Spec):
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    memory_mb: int = Field(default=1024, ge=64, le=8192)


class PythonTestsSpec(ExecLimits):
    tests: str  # hidden test file, relative to the pack folder; it imports the reply as `module`
    module: str = "solution"
    # code the harness puts before the reply's (an imported benchmark's imports, as its official harness runs the
    # prompt before the completion); never the reply's to choose
    preamble: str = ""
    _v = field_validator("tests")(_relative)


class PythonScorerSpec(ExecLimits):
    file: str  # the scorer, relative to the pack folder
    function: str = "score"  # called as function(reply, item)
    args: dict[str, Any] = Field(default_factory=dict)  # passed to the scorer as item["args"] (an expected answer...)
    _v = field_validator("file")(_relative)


class LlmJudgeSpec(Spec):
    rubric: str  # a rubric file in the pack folder (the format of judges/*.yaml; archetypes not needed)
    pass_at: int = Field(default=4, ge=1, le=5)  # passed when every criterion scores at least this
    judge: str | None = None  # a judge of models.yaml's `judges:` (default: the first)
    labels: str | None = None  # people's scores on replies (the format of judges/labels/): the judge's trust
    _v = field_validator("rubric")(_relative)
    _l = field_validator("labels")(lambda v: v if v is None else _relative(v))


class PatchTestsSpec(ExecLimits):
    files: str  # folder with the (buggy) file set
    tests: str  # hidden test file
    editable: str | None = None  # the file a replacement block stands for (default: the one non-test .py file)
    trap: bool = False  # nothing is broken: pass only when the reply says so and changes nothing
    allow_new: list[str] = Field(default_factory=list)  # globs of new files a reply may add (none by default)
    _v = field_validator("files", "tests")(_relative)


class FileExpectation(Spec):
    equals: str | None = None
    contains: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    lines: int | None = Field(default=None, ge=0)
    regex: str | None = None
    absent: bool = False


class ShellExpectation(Spec):
    files: dict[str, FileExpectation] = Field(default_factory=dict)
    output_contains: list[str] = Field(default_factory=list)
    output_equals: str | None = None  # the whole output, stripped
    exit_code: int | None = None

    @model_validator(mode="after")
    def _answer_is_checked(self) -> ShellExpectation:
        # an item judged on output alone must pin the output: "contains 3, exit 0" passes 100 MB of digits
        if self.output_contains and not self.files and self.output_equals is None:
            raise ValueError("an item checked only by `output_contains` accepts arbitrary output; use "
                             "`output_equals` (the whole output) or check files too")
        if not self.files and not self.output_contains and self.output_equals is None:
            raise ValueError("expect checks nothing: give `files`, `output_equals` or `output_contains`")
        return self


class ShellStateSpec(ExecLimits):
    setup: str | None = None  # folder copied into the workspace before the command runs
    expect: ShellExpectation
    _v = field_validator("setup")(lambda v: v if v is None else _relative(v))


# checks that name files in the pack folder: the loader verifies them and passes the folder to the verifier
PACK_FILE_FIELDS = {"python_tests": ("tests",), "patch_tests": ("files", "tests"), "shell_state": ("setup",),
                    "python": ("file",), "llm_judge": ("rubric", "labels")}

SPECS: dict[str, type[Spec]] = {
    "exact": ExactSpec, "numeric": NumericSpec, "regex": RegexSpec, "choice": ChoiceSpec, "mentions": MentionsSpec,
    "json_schema": JsonSchemaSpec, "yaml": YamlSpec, "markdown_table": MarkdownTableSpec, "fields": FieldsSpec,
    "constraints": ConstraintsSpec, "tool_call": ToolCallSpec,
    "python_tests": PythonTestsSpec, "patch_tests": PatchTestsSpec, "shell_state": ShellStateSpec,
    "python": PythonScorerSpec, "llm_judge": LlmJudgeSpec,
}


def normalized(name: str, check: dict[str, Any]) -> dict[str, Any]:
    """The check as its spec model reads it: validated, every default filled in from the model (their one home),
    unset optional fields left out. `pack_dir` (added by the pack loader) passes through."""
    model = SPECS.get(name)
    if model is None:
        return check
    extra = {k: check[k] for k in ("pack_dir",) if k in check}
    clean = {k: v for k, v in check.items() if k not in extra}
    return {**model.model_validate(clean).model_dump(by_alias=True, exclude_none=True), **extra}
