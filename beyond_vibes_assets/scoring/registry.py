"""The verifier registry: what a verifier is (response, spec) -> Verdict, the table of them by name, their code
versions and the one safe way to call them.

Verifier modules register themselves here (`verifiers.py`: the text verifiers; `execution_verifiers.py`: the ones
that run the reply in the sandbox); neither imports the other, and the registry loads both the first time a name
is looked up. A verifier's code version hashes its own source, the shared helpers and the modules it declares
it uses (`uses`), so editing one verifier, or a module one relies on, makes only the packs using it stale.
"""

from __future__ import annotations

import contextvars
import hashlib
import importlib
import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

from ..pools import cancelling_pool

PLUGINS = ("verifiers", "execution_verifiers", "pack_scorers", "judged")


@dataclass(frozen=True)
class Response:
    """What a verifier sees: the scored answer (reasoning already stripped), any tool calls and what was asked (a
    judge needs the question to judge the answer)."""

    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    score: float  # 0..1; partial credit for field-level scoring
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Verifier = Callable[[Response, dict[str, Any]], Verdict]
_VERIFIERS: dict[str, Verifier] = {}
_USES: dict[str, tuple[ModuleType, ...]] = {}
_HELPERS: list[Callable[..., Any]] = []
_COMMON: list[ModuleType] = []
_LOADED: list[bool] = []
_SIDE_BY_SIDE: set[str] = set()


def verifier(name: str) -> Callable[[Verifier], Verifier]:
    """Register a verifier; what its `check` may hold is scoring/specs.py's SPECS[name], checked at pack load."""
    def register(fn: Verifier) -> Verifier:
        _VERIFIERS[name] = fn
        return fn

    return register


def uses(name: str, *modules: ModuleType) -> None:
    """Modules whose code counts toward verifier `name`'s version (a sandbox runner, a table parser, ...)."""
    _USES[name] = tuple(modules)


def side_by_side(name: str) -> None:
    """Verifier `name` spends its time in a child process (the sandbox) and is safe to call from several threads:
    `verify_all` runs its calls side by side, one per core, instead of leaving cores idle."""
    _SIDE_BY_SIDE.add(name)


def register_helpers(*helpers: Callable[..., Any], common: tuple[ModuleType, ...] = ()) -> None:
    """Functions and modules every verifier's version includes (the shared verdict helpers, answer extraction)."""
    _HELPERS.extend(h for h in helpers if h not in _HELPERS)
    _COMMON.extend(m for m in common if m not in _COMMON)


def verifiers() -> dict[str, Verifier]:
    """Every registered verifier by name (the plugin modules are loaded on first use)."""
    if not _LOADED:  # every plugin, even when one of them was imported directly before
        for plugin in PLUGINS:
            importlib.import_module(f"{__package__}.{plugin}")
        _LOADED.append(True)
    return _VERIFIERS


def code_version(name: str) -> str:
    """Hash of the verifier's source and the helpers and modules it relies on."""
    fn = verifiers()[name]
    parts = [inspect.getsource(fn), *(inspect.getsource(h) for h in _HELPERS)]
    parts += [inspect.getsource(m) for m in (*_COMMON, *_USES.get(name, ()))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def verify(name: str, response: Response, spec: dict[str, Any]) -> Verdict:
    """The verifier's verdict on a response; it receives its check validated by its spec model (specs.py), defaults
    filled in there, so no verifier keeps defaults of its own."""
    from .specs import normalized

    try:
        return verifiers()[name](response, normalized(name, spec))
    except Exception as exc:  # noqa: BLE001 - a verifier bug must not crash a run; it is a recorded verdict
        return Verdict(False, 0.0, f"verifier error: {type(exc).__name__}: {exc}", {"verifier_error": True})


def verify_all(calls: Sequence[tuple[str, Response, dict[str, Any]]], workers: int | None = None) -> list[Verdict]:
    """`verify` over many (name, response, spec), verdicts in the calls' order. Calls of side-by-side verifiers run
    on a thread pool (one worker per core, each in a copy of the caller's context); the rest run here, in order."""
    verifiers()  # the plugins declare which verifiers run side by side: load them before asking
    pooled = [i for i, call in enumerate(calls) if call[0] in _SIDE_BY_SIDE]
    workers = min(workers or os.cpu_count() or 1, len(pooled))
    if workers < 2:
        return [verify(*call) for call in calls]
    with cancelling_pool(workers) as pool:  # a stop: the running calls end within their sandbox's limits
        futures = {i: pool.submit(_in_context, contextvars.copy_context(), calls[i]) for i in pooled}
        return [futures[i].result() if i in futures else verify(*call) for i, call in enumerate(calls)]


def _in_context(context: contextvars.Context, call: tuple[str, Response, dict[str, Any]]) -> Verdict:
    return context.run(verify, *call)


def __getattr__(name: str) -> Any:
    if name == "VERIFIERS":  # the table, loaded (read-only use: register with @verifier)
        return verifiers()
    raise AttributeError(name)
