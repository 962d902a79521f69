"""The tools an agent gets, bound to one workspace. Every call returns a ToolResult within its time bound and
never raises: a refused path, bad arguments, a missing file, a link, a FIFO, bad text or a failed command is a
recorded result the model sees.

File tools go through sandbox/safefs.py: no absolute paths, no '..', no .git, never a link at any component,
regular files only, non-blocking opens (a FIFO the shell made cannot block the host). `search` runs the
`regex` engine with a deadline, so a catastrophic pattern costs at most SEARCH_S of host CPU; `run` goes
through the sandbox. Outputs are bounded so a huge file or listing cannot flood the model's context.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import regex

from ..sandbox import Limits, PathRefused, SandboxUnavailable, Workspace, safefs

MAX_READ_CHARS = 12_000
MAX_READ_BYTES = 4 << 20
MAX_WRITE_CHARS = 4 << 20
MAX_LIST = 400
MAX_MATCHES = 100
MAX_WALK = 20_000  # directory entries a listing or search looks at
SEARCH_S = 5.0


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    output: str
    error_kind: str | None = None  # refused | invalid_args | not_found | failed | timeout | unavailable | unknown_tool
    #                               | sandbox_error (the machine's, not the model's)
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
        except (PathRefused, safefs.Refused) as exc:
            return ToolResult(False, str(exc), "refused")
        except FileNotFoundError as exc:
            return ToolResult(False, f"no such file: {exc.filename or exc}", "not_found")
        except IsADirectoryError:
            return ToolResult(False, "that path is a folder; use list_files", "invalid_args")
        except NotADirectoryError:
            return ToolResult(False, "a component of that path is a file, not a folder", "invalid_args")
        except UnicodeError:
            return ToolResult(False, "not valid UTF-8 text (file or argument)", "invalid_args")
        except SandboxUnavailable as exc:
            return ToolResult(False, str(exc), "unavailable")
        except OSError as exc:
            return ToolResult(False, f"{type(exc).__name__}: {exc.strerror or exc}", "failed")
        except Exception as exc:  # noqa: BLE001 - a tool never takes the episode down; the model sees what failed
            return ToolResult(False, f"{type(exc).__name__}: {str(exc)[:300]}", "failed")

    def _rel(self, path: str) -> str:
        """The workspace-relative form of a checked path ('' for the root)."""
        rel = self.ws.resolve(path).relative_to(self.ws.root).as_posix()
        return "" if rel == "." else rel

    def _files(self, path: str) -> list[str]:
        """Regular files under a folder (or the one file), links never followed, bounded."""
        rel = self._rel(path)
        kind = safefs.exists(self.ws.root, rel) if rel else "dir"
        if kind is None:
            raise FileNotFoundError(path)
        if kind == "file":
            return [rel]
        base = self.ws.root / rel if rel else self.ws.root
        prefix = f"{rel}/" if rel else ""
        return [prefix + r for r, *_ in safefs.walk(base, skip_top=frozenset({".tmp"}) if not rel else frozenset(),
                                                    max_entries=MAX_WALK)]

    def list_files(self, path: str = ".") -> ToolResult:
        files = self._files(path)
        more = f"\n[{len(files) - MAX_LIST} more]" if len(files) > MAX_LIST else ""
        return ToolResult(True, "\n".join(files[:MAX_LIST]) + more)

    def read_file(self, path: str) -> ToolResult:
        data, size = safefs.read_bytes(self.ws.root, self._rel(path), MAX_READ_BYTES)
        text = data.decode("utf-8")
        if len(text) > MAX_READ_CHARS or size > len(data):
            text = text[:MAX_READ_CHARS] + f"\n[truncated: {size} bytes]"
        return ToolResult(True, text)

    def write_file(self, path: str, content: str) -> ToolResult:
        if len(content) > MAX_WRITE_CHARS:
            return ToolResult(False, f"content over {MAX_WRITE_CHARS} characters", "invalid_args")
        safefs.write_bytes(self.ws.root, self._rel(path), content.encode("utf-8"), owner=self._owner())
        return ToolResult(True, f"wrote {len(content)} characters to {path}")

    def edit_file(self, path: str, old: str, new: str) -> ToolResult:
        rel = self._rel(path)
        data, size = safefs.read_bytes(self.ws.root, rel, MAX_READ_BYTES)
        if size > len(data):
            return ToolResult(False, f"{path} is too large to edit ({size} bytes)", "invalid_args")
        text = data.decode("utf-8")
        count = text.count(old) if old else 0
        if count != 1:
            return ToolResult(False, f"`old` must occur exactly once in {path}; found {count} times", "invalid_args")
        safefs.write_bytes(self.ws.root, rel, text.replace(old, new, 1).encode("utf-8"), owner=self._owner())
        return ToolResult(True, f"edited {path}")

    def _owner(self) -> int | None:
        return self.ws.owner if os.geteuid() == 0 else None

    def search(self, pattern: str, path: str = ".") -> ToolResult:
        try:
            compiled = regex.compile(pattern)
        except (regex.error, ValueError, OverflowError) as exc:
            return ToolResult(False, f"invalid regular expression: {exc}", "invalid_args")
        deadline = time.monotonic() + SEARCH_S
        hits: list[str] = []
        for rel in self._files(path):
            try:
                data, _ = safefs.read_bytes(self.ws.root, rel, 1 << 20)
                lines = data.decode("utf-8").splitlines()
            except (OSError, UnicodeDecodeError, safefs.Refused):
                continue
            for n, line in enumerate(lines, 1):
                left = deadline - time.monotonic()
                try:
                    if left <= 0 or compiled.search(line, timeout=left):
                        if left <= 0:
                            raise TimeoutError
                        hits.append(f"{rel}:{n}: {line[:200]}")
                except TimeoutError:
                    partial = "\n".join(hits[:MAX_MATCHES])
                    return ToolResult(False, f"search stopped after {SEARCH_S:.0f}s (the pattern is too costly); "
                                             f"matches so far:\n{partial}", "timeout")
                if len(hits) >= MAX_MATCHES:
                    break
            if len(hits) >= MAX_MATCHES:
                break
        return ToolResult(True, "\n".join(hits[:MAX_MATCHES]) or "no matches")

    def run(self, command: str) -> ToolResult:
        result = self.ws.run(command, self.limits, self.isolation)
        if result.sandbox_error:  # the machine's failure: the episode records it as such
            return ToolResult(False, f"the sandbox could not run the command: {result.sandbox_error}", "sandbox_error")
        kind = "timeout" if result.timed_out else (None if result.ok else "failed")
        return ToolResult(result.ok, f"exit code {result.exit_code}\n{result.output}", kind, result.exit_code)
