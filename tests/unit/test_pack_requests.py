"""How pack items become requests: prompted tools, thinking switch and budget, timeouts from measured speed."""

from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.runner.pack_runner import build_request, prompt_hash, timeout_for
from beyond_vibes_assets.runner.target import Target
from resources.llm_client import OpenAICompatibleClient
from tests.conftest import make_pack

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]


def target(**over):
    base = dict(variant="m~q~e", model="m", quant="q", engine="e", client=OpenAICompatibleClient("http://x/v1", "m"),
                concurrency=2, is_llama_server=True, model_sha256="s", engine_build="b")
    base.update(over)
    return Target(**base)


def pack(tmp_path, **meta):
    items = [{"id": "w", "prompt": "Weather in Paris?", "check": {"tool": "get_weather"}, "max_tokens": 100}]
    return load_pack(make_pack(tmp_path, "tools", items, verifier="tool_call", system_prompt="Be useful.",
                               few_shot=[{"user": "hi", "assistant": "hello"}], **meta))


def test_native_and_prompted_tool_modes(tmp_path):
    native = pack(tmp_path, tools=TOOLS)
    req = build_request(native, native.items[0], target(), {"temperature": 0}, 30)
    assert req.tools == TOOLS and req.extra_body == {"cache_prompt": False}
    assert [m["role"] for m in req.messages] == ["system", "user", "assistant", "user"]
    prompted = pack(tmp_path / "p", tools=TOOLS, tool_mode="prompted")
    req = build_request(prompted, prompted.items[0], target(is_llama_server=False), {}, 30)
    assert req.tools is None and "get_weather" in req.messages[0]["content"] and '"tool"' in req.messages[0]["content"]
    assert "cache_prompt" not in req.extra_body  # not sent to non-llama endpoints


def test_thinking_switch_and_budget(tmp_path):
    p = pack(tmp_path)
    off = build_request(p, p.items[0], target(thinking="off"), {}, 30)
    on = build_request(p, p.items[0], target(thinking="on"), {}, 30)
    assert off.extra_body["chat_template_kwargs"] == {"enable_thinking": False} and off.max_tokens == 100
    assert on.extra_body["chat_template_kwargs"] == {"enable_thinking": True} and on.max_tokens > 100
    assert prompt_hash(on) != prompt_hash(off)


def test_timeouts_scale_with_measured_speed_and_can_be_overridden(tmp_path):
    p = pack(tmp_path)
    item = p.items[0]
    fast = timeout_for(p, item, target(decode_tps=200.0, prompt_tps=2000.0))
    slow = timeout_for(p, item, target(decode_tps=2.0, prompt_tps=20.0))
    assert fast == p.meta.timeout_floor_s and slow > 100 * 2  # 100 tokens at 2 tok/s, x safety x slots
    assert timeout_for(p, item, target(decode_tps=2.0), override_s=7) == 7
    assert timeout_for(p, item, target()) >= 120  # unknown speed: generous default
