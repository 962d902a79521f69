"""A scripted agent that plays a sim's reference solution through the real agent loop, tools and sandbox.

It is a chat client (no model, no HTTP) whose replies are the reference as tool calls: write every overlay file,
apply the reference patch and delete what the reference deletes with the shell, then finish with the reference
answer; pushed back, it keeps its answer. In `prompted` mode the calls are JSON actions, in `native` mode tool calls,
so both protocols are exercised. A sim whose criteria this agent cannot meet is broken (or its tools are), whatever
the reference files say: `sims validate` and the integration suite run it for every shipped sim.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from resources.llm_client import ChatRequest, ChatResult

from ..catalog.sims import Sim


def reference_actions(sim: Sim) -> list[tuple[str, dict[str, Any]]]:
    """Pure: (tool, arguments) that turn the fixture into the reference solution, then finish."""
    ref, folder, tools = sim.task.reference, sim.folder, set(sim.task.tools)
    actions: list[tuple[str, dict[str, Any]]] = []
    if ref.overlay and (folder / ref.overlay).is_dir():
        root = folder / ref.overlay
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if "write_file" not in tools:
                raise ValueError(f"{sim.name}: the reference writes files but the sim offers no write_file tool")
            actions.append(("write_file", {"path": path.relative_to(root).as_posix(), "content": path.read_text()}))
    if ref.patch:
        if not {"write_file", "run"} <= tools:
            raise ValueError(f"{sim.name}: the reference is a patch but the sim offers no write_file + run tools")
        actions.append(("write_file", {"path": ".tmp/reference.patch", "content": (folder / ref.patch).read_text()}))
        actions.append(("run", {"command": "git apply .tmp/reference.patch && rm .tmp/reference.patch"}))
    if ref.delete:
        if "run" not in tools:
            raise ValueError(f"{sim.name}: the reference deletes files but the sim offers no run tool")
        actions.append(("run", {"command": "rm -rf " + " ".join(json.dumps(p) for p in ref.delete)}))
    answer = (folder / ref.answer).read_text() if ref.answer else "Done."
    actions.append(("finish", {"answer": answer}))
    return actions


class ReferencePlayer:
    """A chat client for run_episode that answers each turn with the next reference action."""

    def __init__(self, sim: Sim, mode: str):
        self.mode, self.actions, self.turn = mode, reference_actions(sim), 0
        self.answer = self.actions[-1][1]["answer"]

    async def chat(self, http: Any, request: ChatRequest) -> ChatResult:
        started = time.perf_counter()
        if self.turn < len(self.actions):
            tool, args = self.actions[self.turn]
            self.turn += 1
        else:  # the pushback after finishing: keep the answer
            tool, args = "finish", {"answer": self.answer}
        result = ChatResult(finish_reason="stop", prompt_tokens=0, completion_tokens=1)
        if self.mode == "native":
            result.tool_calls = [{"id": f"call{self.turn}", "name": tool, "arguments": json.dumps(args)}]
            result.finish_reason = "tool_calls"
        else:
            result.text = json.dumps({"tool": tool, "arguments": args})
        result.ttft_s = result.latency_s = time.perf_counter() - started
        return result


async def play_reference(sim: Sim, mode: str, dest: Path) -> dict[str, Any]:
    """The reference played as an episode in a fresh workspace at `dest`; the record a real episode would store
    (answer, diff, changed files), so it is scored the same way (rebuilt from the diff)."""
    from ..sandbox import Limits, Workspace
    from .loop import run_episode
    from .tools import Toolbox

    ws = Workspace.create(sim.repo, dest)
    try:
        toolbox = Toolbox(ws, sim.task.tools, Limits(), sim.task.sandbox)
        episode = await run_episode(None, ReferencePlayer(sim, mode), toolbox, sim.prompt(), mode=mode,
                                    max_steps=max(sim.task.limits.max_steps, 200), pushback=True, stop_when_stuck=False)
        diff = ws.diff()
        return {"episode_id": f"reference-{mode}", "answer": episode.answer, "diff": diff,
                "changed_files": ws.changed_files(diff), "episode": episode.to_dict()}
    finally:
        ws.remove()
