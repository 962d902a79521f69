"""The tools an agent gets, bound to one workspace. Every call returns a ToolResult, never raises:
a refused path, bad arguments, a missing file or a failed command is a recorded result the model sees.

File tools resolve paths through `Workspace.resolve` (no absolute paths, no '..', no symlink that
leaves, no .git); `run` goes through the sandbox. Outputs are bounded so a huge file or listing cannot
flood the model's context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .sandbox import Limits, PathRefused, SandboxUnavailable, Workspace

MAX_READ_CHARS = 12_000
MAX_LIST = 400
MAX_MATCHES = 100


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    output: str
    error_kind: str | None = None  # refused | invalid_args | not_found | failed | timeout | unavailable | unknown_tool
    exit_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SCHEMAS: dict[str, dict[str, Any]] = {
    "list_files": {"description": "List files under a folder of the repository (recursive).",
                   "parameters": {"type": "object", "properties": {"path": {"type": "string", "default": "."}},
                                  "additionalProperties": False}},
    "read_file": {"description": "Read a text file of the repository.",
                  "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                                 "required": ["path"], "additionalProperties": False}},
    "write_file": {"description": "Create or overwrite a file with the given content.",
                   "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                                  "required": ["path", "content"], "additionalProperties": False}},
    "edit_file": {"description": "Replace one exact occurrence of `old` with `new` in a file.",
                  "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "old": {"type": "string"},
                                                                   "new": {"type": "string"}},
                                 "required": ["path", "old", "new"], "additionalProperties": False}},
    "search": {"description": "Search the repository's text files for a regular expression.",
               "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}, "path": {"type": "string", "default": "."}},
                              "required": ["pattern"], "additionalProperties": False}},
    "run": {"description": "Run a shell command in the repository (no network).",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                           "required": ["command"], "additionalProperties": False}},
    "finish": {"description": "End the task with your final answer.",
               "parameters": {"type": "object", "properties": {"answer": {"type": "string"}},
                              "required": ["answer"], "additionalProperties": False}},
}


TOOLS_ALL = list(SCHEMAS)


def openai_tools(names: list[str]) -> list[dict[str, Any]]:
    """The offered tools as OpenAI `tools` entries."""
    return [{"type": "function", "function": {"name": n, **SCHEMAS[n]}} for n in names]


class Toolbox:
    def __init__(self, workspace: Workspace, offered: list[str], limits: Limits = Limits(), isolation: str = "bubblewrap"):
        self.ws, self.offered, self.limits, self.isolation = workspace, list(offered), limits, isolation
        self._impl: dict[str, Callable[..., ToolResult]] = {
            "list_files": self.list_files, "read_file": self.read_file, "write_file": self.write_file,
            "edit_file": self.edit_file, "search": self.search, "run": self.run,
        }

    def call(self, name: str, arguments: dict[str, Any] | str) -> ToolResult:
        """Dispatch one tool call; everything that can go wrong becomes a ToolResult."""
        if name not in self.offered or name not in self._impl:
            return ToolResult(False, f"unknown tool {name!r}; offered: {', '.join(self.offered)}", "unknown_tool")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                return ToolResult(False, f"arguments are not valid JSON: {exc.msg}", "invalid_args")
        if not isinstance(arguments, dict):
            return ToolResult(False, "arguments must be a JSON object", "invalid_args")
        schema = SCHEMAS[name]["parameters"]
        missing = [k for k in schema.get("required", []) if k not in arguments]
        extra = [k for k in arguments if k not in schema["properties"]]
        wrong = [k for k, v in arguments.items() if k in schema["properties"] and not isinstance(v, str)]
        if missing or extra or wrong:
            return ToolResult(False, f"bad arguments for {name}: missing {missing}, unknown {extra}, not strings {wrong}",
                              "invalid_args")
        try:
            return self._impl[name](**arguments)
        except PathRefused as exc:
            return ToolResult(False, str(exc), "refused")
        except FileNotFoundError as exc:
            return ToolResult(False, f"no such file: {exc.filename or exc}", "not_found")
        except IsADirectoryError:
            return ToolResult(False, "that path is a folder; use list_files", "invalid_args")
        except UnicodeDecodeError:
            return ToolResult(False, "not a UTF-8 text file", "invalid_args")
        except SandboxUnavailable as exc:
            return ToolResult(False, str(exc), "unavailable")
        except OSError as exc:
            return ToolResult(False, f"{type(exc).__name__}: {exc}", "failed")

    def list_files(self, path: str = ".") -> ToolResult:
        base = self.ws.resolve(path)
        if not base.exists():
            raise FileNotFoundError(path)
        files = sorted(str(p.relative_to(self.ws.root)) for p in base.rglob("*") if self._visible(p))
        more = f"\n[{len(files) - MAX_LIST} more]" if len(files) > MAX_LIST else ""
        return ToolResult(True, "\n".join(files[:MAX_LIST]) + more)

    def _visible(self, path) -> bool:
        """A regular file whose real location is inside the workspace (a symlinked folder may point out)."""
        rel = path.relative_to(self.ws.root)
        return (path.is_file() and not path.is_symlink() and self.ws.root in path.resolve().parents
                and not {".git", ".tmp"} & set(rel.parts))

    def read_file(self, path: str) -> ToolResult:
        text = self.ws.resolve(path).read_text(encoding="utf-8")
        if len(text) > MAX_READ_CHARS:
            text = text[:MAX_READ_CHARS] + f"\n[truncated: {len(text)} characters]"
        return ToolResult(True, text)

    def write_file(self, path: str, content: str) -> ToolResult:
        target = self.ws.resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        self.ws.hand_over(target)
        return ToolResult(True, f"wrote {len(content)} characters to {path}")

    def edit_file(self, path: str, old: str, new: str) -> ToolResult:
        target = self.ws.resolve(path)
        text = target.read_text(encoding="utf-8")
        count = text.count(old) if old else 0
        if count != 1:
            return ToolResult(False, f"`old` must occur exactly once in {path}; found {count} times", "invalid_args")
        target.write_text(text.replace(old, new, 1), encoding="utf-8")
        return ToolResult(True, f"edited {path}")

    def search(self, pattern: str, path: str = ".") -> ToolResult:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            return ToolResult(False, f"invalid regular expression: {exc}", "invalid_args")
        base = self.ws.resolve(path)
        hits: list[str] = []
        for file in sorted(base.rglob("*") if base.is_dir() else [base]):
            if not self._visible(file):
                continue
            rel = file.relative_to(self.ws.root)
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
            except (UnicodeDecodeError, OSError):
                continue
            hits += [f"{rel}:{n}: {line[:200]}" for n, line in enumerate(lines, 1) if regex.search(line)]
            if len(hits) >= MAX_MATCHES:
                break
        return ToolResult(True, "\n".join(hits[:MAX_MATCHES]) or "no matches")

    def run(self, command: str) -> ToolResult:
        result = self.ws.run(command, self.limits, self.isolation)
        kind = "timeout" if result.timed_out else (None if result.exit_code == 0 else "failed")
        return ToolResult(result.ok, f"exit code {result.exit_code}\n{result.output}", kind, result.exit_code)
