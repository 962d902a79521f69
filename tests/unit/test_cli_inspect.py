"""`beyond-vibes inspect` over a real (small) warehouse: failures, one sample, and a diff."""

import json

from beyond_vibes_assets.cli.main import main
from resources.warehouse import WarehouseResource


def sample(variant, sid, passed, reason="", failure=None, run="r1"):
    return {"variant": variant, "task": "math", "sample_id": sid, "passed": passed, "score": 1.0 if passed else 0.0,
            "verdict_reason": reason, "failure_mode": failure, "run_id": run, "canonical": True,
            "prompt_text": json.dumps([{"role": "user", "content": f"question {sid}"}]), "response_text": f"answer {sid}"}


def test_inspect_lists_shows_and_diffs(home, capsys):
    wh = WarehouseResource()
    wh.replace_partition("samples", {"variant": "a~q~e", "task": "math"},
                         [sample("a~q~e", "1", True), sample("a~q~e", "2", False, "expected 84, got 83")])
    wh.replace_partition("samples", {"variant": "b~q~e", "task": "math"},
                         [sample("b~q~e", "1", False, "not scored", "endpoint_unreachable", "r2"), sample("b~q~e", "2", True, run="r2")])
    assert main(["inspect", "--variant", "a~q~e"]) == 0
    out = capsys.readouterr().out
    assert "math/2" in out and "expected 84, got 83" in out and "1 failing samples" in out
    assert main(["inspect", "--pack", "math", "--variant", "a~q~e", "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert "question 2" in out and "answer 2" in out and "FAIL" in out
    assert main(["inspect", "--diff", "a~q~e", "r2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {c["sample_id"]: c["change"] for c in out["changes"]} == {"1": "lost to the machine in B", "2": "fixed"}
    # the paired statistics leave out item 1 and say so: the machine lost B's call (a dead endpoint is no wrong answer)
    assert out["paired"]["items"] == 1 and out["paired"]["b_only"] == 1 and out["paired"]["diff"] == 1.0
    assert out["paired"]["dropped_b"] == 1 and out["paired"]["dropped_a"] == 0
    assert main(["inspect", "--diff", "a~q~e", "b~q~e"]) == 0
    text = capsys.readouterr().out
    assert "McNemar exact p = 1 " in text and "no detectable difference" in text and "95% bootstrap CI [+100.0, +100.0]" in text


def test_diff_labels_an_upward_derived_quant(home, capsys):
    wh = WarehouseResource()
    for variant in ("m~Q4_1~cpu", "m~Q8_0~cpu"):
        wh.replace_partition("samples", {"variant": variant, "task": "math"},
                             [sample(variant, "1", True), sample(variant, "2", variant.endswith("Q8_0~cpu"))])
    wh.replace_partition("weights", {"weights_key": "m~Q8_0"}, [{"weights_key": "m~Q8_0", "model": "m", "quant": "Q8_0",
                                                                 "origin": "derived", "derived_from": "Q4_1"}])
    assert main(["inspect", "--diff", "m~Q4_1~cpu", "m~Q8_0~cpu"]) == 0
    out = capsys.readouterr().out
    assert "B m~Q8_0~cpu (≤ Q4_1 source)" in out and "A m~Q4_1~cpu:" in out
