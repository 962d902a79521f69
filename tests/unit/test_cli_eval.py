"""`beyond-vibes eval --url --model`: any OpenAI-compatible endpoint scored on packs without editing models.yaml
(here a scripted endpoint: no model runs in the unit tier), through the same assets and warehouse; `--save` appends
the entry to models.yaml, which still validates."""

import re

import yaml

from beyond_vibes_assets.cli.main import adhoc_name, main
from resources.warehouse import WarehouseResource
from tests.conftest import make_pack
from tests.scripted import ScriptedEndpoint, api_models, last_user

MATH = [{"id": f"add{i}", "prompt": f"What is {i} + {i}?", "check": {"answer": 2 * i}} for i in range(1, 5)]


def reply(body):
    a, b = map(int, re.search(r"(\d+) \+ (\d+)", last_user(body)).groups())
    return str(a + b) if body.get("model") == "theirs" else "0"


def test_eval_scores_an_endpoint_outside_the_catalog_and_save_adds_it(home, tmp_path, capsys):
    # it says what it serves, as a llama-server does on /props: the run manifest records it
    endpoint = ScriptedEndpoint(reply, props={"model_path": "/models/theirs-Q4_K_M.gguf", "build_info": "b9999-abc"})
    config = tmp_path / "models.yaml"
    config.write_text(api_models(endpoint.url, ["ours"]))
    before = config.read_text()
    make_pack(tmp_path / "packs", "math", MATH, verifier="numeric")
    argv = ["eval", "--url", endpoint.url, "--model", "theirs", "--pack", "math", "--config", str(config),
            "--packs", str(tmp_path / "packs")]
    name = adhoc_name(endpoint.url, "theirs")
    with endpoint.running():
        assert main(argv) == 0
        assert config.read_text() == before and not list(tmp_path.glob(".models.eval-*"))  # nothing left behind
        out = capsys.readouterr().out
        assert f"{name}~api~openai_compatible math: 4/4 = 100.0%" in out
        assert "served outside the catalog's control: /models/theirs-Q4_K_M.gguf (build b9999-abc" in out
        assert endpoint.count("theirs") == 4 and endpoint.count("ours") == 0
        rows = WarehouseResource().query("SELECT DISTINCT variant FROM samples")
        assert rows == [{"variant": f"{name}~api~openai_compatible"}]
        run = WarehouseResource().query("SELECT engine_version, server_props FROM runs")[0]
        assert run["engine_version"] == "b9999-abc" and "theirs-Q4_K_M.gguf" in run["server_props"]
        assert main([*argv, "--save"]) == 0  # stored answers: nothing sent again
        assert endpoint.count("theirs") == 4
    saved = yaml.safe_load(config.read_text())
    assert [m["name"] for m in saved["models"]] == ["ours", name] and saved["models"][1]["base_url"] == endpoint.url
    assert main(["validate", "--config", str(config), "--packs", str(tmp_path / "packs")]) == 0
    assert main(argv) == 2  # now a catalog model: `packs run` it, or --name another
