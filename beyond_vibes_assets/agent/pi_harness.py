"""The pi coding agent (npm `@mariozechner/pi-coding-agent`) as an external harness, on the same footing as ours.

pi runs non-interactively (`--mode json -p`, no session, no compaction, no retries, offline) in the episode's
workspace with a generated `models.json` that points at the variant's OpenAI-compatible endpoint. It has no
sandbox of its own, so it runs under bubblewrap with the strongest isolation that still lets it reach the
endpoint: the same read-only system view, hidden checkout/home/user folders, scrubbed environment and limits
as our shell, but the host's network namespace (the endpoint is a 127.0.0.1 listener of the host). Its JSONL
events become the same Episode/Step schema as the built-in loop, so the two harnesses compare row by row.

Installed by `deploy/install.sh --with-pi` into the shared cache (`~/.cache/beyond-vibes/pi/<version>`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

from ..sandbox import Limits, SandboxUnavailable, Workspace, isolation_problem, kill_tree
from ..settings import cache_root
from .loop import Episode, Step

PI_PACKAGE = "@mariozechner/pi-coding-agent"
PI_VERSION = "0.73.1"
PROVIDER = "beyondvibes"
MAX_EVENT_BYTES = 20 << 20


def pi_prefix() -> Path:
    return cache_root() / "pi" / PI_VERSION


def pi_binary() -> Path | None:
    """The installed pi CLI, or None (install it with `deploy/install.sh --with-pi`)."""
    path = pi_prefix() / "node_modules" / ".bin" / "pi"
    return path if path.exists() and shutil.which("node") else None


def missing_reason() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (pi needs node >= 20)"
    if pi_binary() is None:
        return f"pi is not installed: deploy/install.sh --with-pi (npm {PI_PACKAGE}@{PI_VERSION} into {pi_prefix()})"
    return None


def write_config(agent_dir: Path, base_url: str, model_id: str, context_window: int, max_tokens: int) -> None:
    """models.json for a local OpenAI-compatible endpoint, and settings that keep pi from compacting or retrying
    (compaction's default reserve exceeds a small model's context and then never ends; see DESIGN.md §4)."""
    agent_dir.mkdir(parents=True, exist_ok=True)
    (agent_dir / "models.json").write_text(json.dumps({"providers": {PROVIDER: {
        "baseUrl": base_url, "api": "openai-completions", "apiKey": "none",
        "compat": {"supportsDeveloperRole": False, "supportsReasoningEffort": False},
        "models": [{"id": model_id, "contextWindow": context_window, "maxTokens": max_tokens}]}}}, indent=1))
    (agent_dir / "settings.json").write_text(json.dumps({"compaction": {"enabled": False}, "retry": {"enabled": False},
                                                         "quietStartup": True}))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return ""


def events_to_episode(events: list[tuple[float, dict[str, Any]]], wall_s: float, timed_out: bool) -> Episode:
    """Pure: pi's timestamped JSONL events as our Episode (model steps from assistant messages, tool steps
    from tool executions), so both harnesses land in the same rows."""
    episode = Episode(mode="pi")
    started_at: dict[str, float] = {}
    message_start = None
    answer, ended = "", False
    for t, event in events:
        kind = event.get("type")
        if kind == "message_start" and (event.get("message") or {}).get("role") == "assistant":
            message_start = t
        elif kind == "message_end" and (event.get("message") or {}).get("role") == "assistant":
            message = event["message"]
            begin = message_start if message_start is not None else t
            usage = message.get("usage") or {}
            calls = [{"name": c.get("name"), "arguments": json.dumps(c.get("arguments"))}
                     for c in message.get("content") or [] if isinstance(c, dict) and c.get("type") == "toolCall"]
            step = Step(len(episode.steps), "model", begin, t - begin, reply=_text(message.get("content")),
                        tool_calls=calls or None, prompt_tokens=usage.get("input"),
                        completion_tokens=usage.get("output"),
                        failure_mode="endpoint_failure" if message.get("stopReason") == "error" else None)
            episode.steps.append(step)
            episode.model_s += step.duration_s
            if _text(message.get("content")).strip():
                answer = _text(message.get("content"))
            message_start = None
        elif kind == "tool_execution_start":
            started_at[event.get("toolCallId", "")] = t
        elif kind == "tool_execution_end":
            begin = started_at.pop(event.get("toolCallId", ""), t)
            result = event.get("result")
            observation = _text((result or {}).get("content")) if isinstance(result, dict) else str(result or "")
            step = Step(len(episode.steps), "tool", begin, t - begin, tool=event.get("toolName"),
                        arguments=event.get("args"), ok=not event.get("isError"), observation=observation[:4000],
                        error_kind="failed" if event.get("isError") else None)
            episode.steps.append(step)
            episode.tools_s += step.duration_s
        elif kind == "agent_end":
            ended = True
    episode.answer = answer
    errored = any(s.failure_mode for s in episode.steps)
    episode.stop_reason = ("time_budget" if timed_out else "endpoint_failure" if errored or not ended else "finished")
    episode.wall_s = wall_s
    return episode


async def run_pi_episode(ws: Workspace, prompt: str, *, base_url: str, model_id: str, context_window: int,
                         max_tokens: int, time_budget_s: float, isolation: str = "bubblewrap",
                         limits: Limits = Limits()) -> Episode:
    """One pi episode in `ws`; the endpoint is the variant's (llama-server's /v1 or an API base URL)."""
    binary = pi_binary()
    if binary is None:
        raise RuntimeError(missing_reason())
    agent_dir = ws.root / ".tmp" / "pi-agent"
    write_config(agent_dir, base_url, model_id, context_window, max_tokens)
    command = " ".join(_quote(a) for a in [str(binary), "--mode", "json", "-p", "--no-session", "--offline",
                                           "--no-extensions", "--no-skills", "--no-prompt-templates", "--no-themes",
                                           "--no-context-files", "--provider", PROVIDER, "--model", model_id, prompt])
    env_extra = {"PI_CODING_AGENT_DIR": str(agent_dir), "PI_OFFLINE": "1"}
    # node opens hundreds of module files and runs a thread pool: more files and tasks than a shell command; its
    # fetch reserves tens of GB of address space for WebAssembly, so RLIMIT_AS cannot bound it (checked: 16 GB
    # made every model call fail with "Connection error")
    shell_limits = Limits(timeout_s=time_budget_s, cpu_s=int(time_budget_s) + 60, memory_bytes=1 << 40,
                          processes=max(limits.processes, 512), open_files=max(limits.open_files, 8192),
                          output_bytes=limits.output_bytes)
    if isolation != "none" and (problem := isolation_problem()):
        raise SandboxUnavailable(problem)
    with ws.lease(shell_limits) as lease:  # its own uid and cgroup, like every sandboxed command
        argv = lease.wrap(ws.argv(command, shell_limits, isolation, network=True, keep=[pi_prefix()],
                                  env_extra=env_extra, uid=lease.uid))
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL,
                                                    cwd=ws.root, env={**ws.env(), **env_extra}, process_group=0,
                                                    limit=MAX_EVENT_BYTES)
        events: list[tuple[float, dict[str, Any]]] = []
        timed_out = False

        async def read() -> None:
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                try:
                    events.append((time.perf_counter() - started, json.loads(line)))
                except json.JSONDecodeError:
                    continue

        try:
            await asyncio.wait_for(read(), time_budget_s)
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            timed_out = True
        finally:
            await asyncio.to_thread(kill_tree, proc.pid)  # pi, node's workers and any bash it started
            await proc.wait()
    return events_to_episode(events, time.perf_counter() - started, timed_out)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
