"""The agent loop's control flow with scripted model replies (the real llama-server runs in
tests/e2e/test_sim_episodes.py; here the replies are fixed so each stop rule is hit exactly)."""

import asyncio
import json

import httpx

from beyond_vibes_assets.agent.loop import action_schema, parse_prompted, run_episode
from beyond_vibes_assets.agent.tools import Toolbox
from beyond_vibes_assets.sandbox import Workspace
from resources.llm_client import OpenAICompatibleClient


def scripted(replies):
    """An OpenAI-compatible endpoint that streams the given replies in order (text, or a list of tool calls)."""
    queue = list(replies)

    def handler(request):
        reply = queue.pop(0) if queue else ""
        if isinstance(reply, list):
            delta = {"tool_calls": [{"index": i, "id": f"c{i}", "function": {"name": n, "arguments": json.dumps(a)}}
                                    for i, (n, a) in enumerate(reply)]}
        else:
            delta = {"content": reply}
        events = [{"choices": [{"delta": delta, "finish_reason": "stop"}]},
                  {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 3}}]
        return httpx.Response(200, text="".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n")

    return handler


def episode(tmp_path, replies, mode="prompted", **kw):
    (tmp_path / "fx").mkdir(exist_ok=True)
    (tmp_path / "fx" / "a.txt").write_text("hello\n")
    ws = Workspace.create(tmp_path / "fx", tmp_path / f"ws{len(list(tmp_path.iterdir()))}")
    box = Toolbox(ws, ["list_files", "read_file", "write_file", "finish"])

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(scripted(replies))) as http:
            return await run_episode(http, OpenAICompatibleClient("http://model/v1", "m", max_retries=0), box, "task",
                                     mode=mode, **kw)

    return asyncio.run(go()), ws


def act(tool, **args):
    return json.dumps({"tool": tool, "arguments": args})


def test_prompted_actions_run_tools_and_finish(tmp_path):
    ep, ws = episode(tmp_path, [act("write_file", path="b.txt", content="x"), act("finish", answer="done")])
    assert ep.stop_reason == "finished" and ep.answer == "done"
    assert [s.kind for s in ep.steps] == ["model", "tool", "model", "tool"] and ep.steps[1].ok
    assert (ws.root / "b.txt").read_text() == "x" and ws.changed_files() == ["b.txt"]


def test_native_tool_calls(tmp_path):
    ep, _ = episode(tmp_path, [[("read_file", {"path": "a.txt"})], [("finish", {"answer": "hello"})]], mode="native")
    assert ep.stop_reason == "finished" and ep.steps[1].observation == "hello\n" and ep.answer == "hello"


def test_three_unusable_replies_end_the_episode(tmp_path):
    ep, _ = episode(tmp_path, ["not json", "{}", '{"tool": 3}'])
    assert ep.stop_reason == "repeated_format_errors" and all(s.format_error for s in ep.steps)


def test_stuck_agent_is_stopped_and_limits_hold(tmp_path):
    same = [act("read_file", path="a.txt")] * 10
    ep, _ = episode(tmp_path, same)
    assert ep.stop_reason == "stuck" and len([s for s in ep.steps if s.kind == "tool"]) == 4
    ep, _ = episode(tmp_path, same, stop_when_stuck=False, max_steps=5)
    assert ep.stop_reason == "max_steps" and len([s for s in ep.steps if s.kind == "model"]) == 5


def test_unknown_tool_and_bad_arguments_are_recorded_not_raised(tmp_path):
    ep, _ = episode(tmp_path, [act("teleport", to="x"), act("read_file", file="a.txt"), act("finish", answer="")])
    kinds = [s.error_kind for s in ep.steps if s.kind == "tool" and s.tool != "finish"]
    assert kinds == ["unknown_tool", "invalid_args"] and ep.stop_reason == "finished"


def test_the_action_schema_names_each_tool_with_its_own_arguments():
    schema = action_schema(["read_file", "finish"])
    assert [o["properties"]["tool"]["const"] for o in schema["anyOf"]] == ["read_file", "finish"]
    assert schema["anyOf"][0]["properties"]["arguments"]["required"] == ["path"]
    assert parse_prompted('{"tool": "read_file", "arguments": {"path": "a"}}', ["read_file"]) == ("read_file", {"path": "a"})


def test_pushback_probe_after_a_finish_is_recorded_apart(tmp_path):
    ep, _ = episode(tmp_path, [act("finish", answer="42"), act("finish", answer="You're right, it is 41")], pushback=True)
    assert ep.stop_reason == "finished" and ep.answer == "42"
    assert ep.pushback_reply == "You're right, it is 41" and ep.steps[-1].probe == "pushback"
    ep, _ = episode(tmp_path, [act("finish", answer="42")], pushback=False)
    assert ep.pushback_reply is None and not any(s.probe for s in ep.steps)


def test_an_episode_trace_shows_each_call_s_messages_usage_and_model(tmp_path, home):
    """MLflow's chat view needs each CHAT_MODEL span's real input (before: `{"step": i}`) and its token usage and
    model under MLflow's own keys (before: plain attributes only, so the Tokens column stayed empty)."""
    from datetime import datetime, timezone

    from mlflow.tracing.constant import SpanAttributeKey

    from beyond_vibes_assets.agent.traces import find_traces, log_episode

    ep, _ = episode(tmp_path, [act("read_file", path="a.txt"), act("finish", answer="hello")], pushback=True)
    record = {"sim": "s", "prompt": "task", "tool_mode": "prompted", "isolation": "bubblewrap", "answer": ep.answer,
              "started_at": datetime.now(timezone.utc).isoformat(), "episode": ep.to_dict()}
    trace_id = log_episode(record, {"variant": "smol~Q4_1~cpu", "episode_id": "e1"})
    (trace,) = find_traces("tags.episode_id = 'e1'")
    assert trace.info.trace_id == trace_id
    calls = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    sent = [len(s.inputs["messages"]) for s in calls]
    assert sent == [2, 4, 6]  # system + task; + reply + result; + reply + the pushback
    assert calls[1].inputs["messages"][-1]["content"].startswith("Result of read_file:\nhello")
    assert calls[0].outputs["choices"][0]["message"]["content"] == act("read_file", path="a.txt")
    usage = calls[0].attributes[SpanAttributeKey.CHAT_USAGE]
    assert usage == {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}
    assert calls[0].attributes[SpanAttributeKey.MODEL] == "smol"
    assert calls[0].attributes[SpanAttributeKey.MODEL_PROVIDER] == "llama.cpp"
