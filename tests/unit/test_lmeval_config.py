"""lm-eval configuration, task loading and pack export, without a server (lm-eval itself is real)."""

import json

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.models_config import load_catalog
from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.lmeval.export import export_pack
from beyond_vibes_assets.lmeval.model import request_fields
from beyond_vibes_assets.lmeval.tasks import UnsupportedTask, task_spec
from beyond_vibes_assets.runner.pack_runner import build_request
from beyond_vibes_assets.runner.target import Target
from beyond_vibes_assets.settings import REPO_ROOT
from tests.conftest import make_pack

BASE = "engines: [{name: cpu}]\nmodels:\n  - name: m\n    repo_id: a/b\n    quant_tags: [Q4_1]\n"


def test_lm_eval_section_is_validated_with_file_field_and_fix(write_config):
    ok = load_catalog(write_config(BASE + "lm_eval:\n  tasks:\n    - name: bv_arith\n      limit: 5\n"))
    assert ok.lm_eval.lm_eval_task("bv_arith").limit == 5
    with pytest.raises(ConfigError) as err:
        load_catalog(write_config(BASE + "lm_eval:\n  tasks:\n    - name: bv_arith\n      fewshot: 3\n"
                                          "    - name: bv_arith\n"))
    text = "\n".join(map(str, err.value.problems))
    assert "fewshot" in text and "num_fewshot" in text and "duplicate lm-eval task" in text and "models.yaml" in text


def test_local_task_loads_offline_with_absolute_data_files():
    spec, version = task_spec("bv_arith")
    assert version == "1.1" and spec["output_type"] == "generate_until"
    path = spec["dataset_kwargs"]["data_files"]["test"]
    assert path.startswith("/") and len(open(path).read().splitlines()) == 40


def test_loglikelihood_tasks_are_refused_with_the_reason(tmp_path):
    folder = tmp_path / "mc_task"
    folder.mkdir()
    (folder / "mc_task.yaml").write_text("task: mc_task\noutput_type: multiple_choice\ndataset_path: json\n")
    with pytest.raises(UnsupportedTask, match="log-probabilities"):
        task_spec("mc_task", str(tmp_path))
    with pytest.raises(UnsupportedTask, match="knows no task"):
        task_spec("no_such_task_anywhere")


def test_exported_pack_is_a_task_lm_eval_builds(tmp_path):
    pack = load_pack(REPO_ROOT / "packs" / "reasonmath")
    folder = export_pack(pack, tmp_path)
    spec, _ = task_spec(folder.name, str(tmp_path))
    from lm_eval.tasks import TaskManager, get_task_dict

    tasks = get_task_dict([spec], TaskManager(include_path=str(tmp_path), include_defaults=False))
    task = next(iter(tasks.values()))
    docs = list(task.test_docs())
    assert len(docs) == len(pack.items) and task.doc_to_text(docs[0]) == pack.items[0].prompt
    assert task.doc_to_target(docs[0]) == str(pack.items[0].check["answer"])
    rows = [json.loads(line) for line in (folder / f"{folder.name}.jsonl").read_text().splitlines()]
    assert rows[0]["id"] == pack.items[0].id


def test_stop_sequences_reach_the_request_and_lm_eval_until_maps_to_them(tmp_path):
    make_pack(tmp_path, "short", [{"id": "a", "prompt": "Say hi", "check": {"answer": "hi"}},
                                  {"id": "b", "prompt": "Say yo", "check": {"answer": "yo"}, "stop": ["!"]}],
              verifier="exact", stop=["\n"])
    pack = load_pack(tmp_path / "short")
    target = Target("v", "m", "q", "e", client=None, concurrency=1, is_llama_server=True)
    first, second = (build_request(pack, item, target, {"temperature": 0.0}, 30.0) for item in pack.items)
    assert first.extra_body["stop"] == ["\n"] and second.extra_body["stop"] == ["!"]
    assert request_fields({"until": ["\n\n", "Q:"], "max_gen_toks": 32, "do_sample": False}) == {
        "max_tokens": 32, "stop": ["\n\n", "Q:"], "temperature": 0.0}


def test_judges_section_names_a_catalog_variant_or_api_model(write_config):
    ok = load_catalog(write_config(BASE + "judges:\n  - name: j\n    variant: m~Q4_1~cpu\n"))
    assert ok.judges[0].variant == "m~Q4_1~cpu"
    with pytest.raises(ConfigError) as err:
        load_catalog(write_config(BASE + "judges:\n  - name: j\n    variant: m~Q8_0~cpu\n  - name: k\n    model: gpt\n"
                                          "  - name: l\n"))
    text = "\n".join(map(str, err.value.problems))
    assert "not a local variant" in text and "m~Q4_1~cpu" in text and "no API model 'gpt'" in text
    assert "exactly one of 'variant' or 'model'" in text
