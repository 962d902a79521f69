"""An API model whose key variable is unset fails fast with a message that names the variable, model and file."""

import dagster as dg

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.orchestration.sync import sync_instance
from tests.conftest import make_pack


def test_unset_key_variable_is_a_clear_failure(home, tmp_path, monkeypatch, capsys):
    config = tmp_path / "models.yaml"
    config.write_text("engines: []\nmodels:\n  - name: gpt\n    provider: openai\n    api_key_env: BV_TEST_UNSET_KEY\n")
    make_pack(tmp_path / "packs", "math", [{"id": "a", "prompt": "1+1?", "check": {"answer": 2}}], verifier="numeric")
    monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
    monkeypatch.setenv("BEYOND_VIBES_PACKS", str(tmp_path / "packs"))
    monkeypatch.delenv("BV_TEST_UNSET_KEY", raising=False)
    instance = dg.DagsterInstance.ephemeral()
    sync_instance(instance, CatalogResource())
    key = dg.MultiPartitionKey({"variant": "gpt~api~openai", "task": "math"})
    assert not materialize(["pack_results"], key, instance=instance)
    err = capsys.readouterr().err
    assert "BV_TEST_UNSET_KEY is not set" in err and "gpt" in err and str(config) in err
