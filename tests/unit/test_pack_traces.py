"""Every pack sample becomes an MLflow trace (one experiment per pack): the messages sent, the reply, token usage
and model under MLflow's own keys, tagged with variant, pack, item and verdict; written after scoring, once per
answer (a re-run writes none), a re-scored answer's verdict tag follows its new verdict. Against the scripted
endpoint of the fan-out tests (mocked only because no model runs in the unit tier)."""

import json

from mlflow.tracing.constant import SpanAttributeKey

from beyond_vibes_assets.agent.traces import mlflow_module
from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.orchestration.sync import sync_instance
from tests.conftest import make_pack
from tests.unit import test_fanout_assets as fanout
from tests.unit.test_fanout_assets import BAD, GOOD, MATH, key, run

scripted = fanout.scripted  # the scripted endpoint and instance fixture of the fan-out tests


def traces(pack):
    mlflow = mlflow_module()
    experiment = mlflow.get_experiment_by_name(f"beyond-vibes-pack-{pack}")
    return mlflow.search_traces(locations=[experiment.experiment_id], return_type="list") if experiment else []


def test_each_pack_sample_is_a_trace_once_with_messages_usage_and_verdict(scripted, monkeypatch):
    endpoint, instance, tmp = scripted
    monkeypatch.setenv("BEYOND_VIBES_PACK_TRACES", "1")
    keys = [key(GOOD, "math"), key(BAD, "math")]
    assert run(instance, "pack_definition", ["math"])[0]
    assert run(instance, "pack_results", keys)[0]
    found = traces("math")
    assert len(found) == 2 * len(MATH)
    by = {(t.info.tags["variant"], t.info.tags["item"]): t for t in found}
    good, bad = by[(GOOD, "add2")], by[(BAD, "add2")]
    assert good.info.tags["verdict"] == "passed" and bad.info.tags["verdict"] == "failed"
    assert good.info.tags["pack"] == "math"
    (span,) = good.data.spans
    assert span.span_type == "CHAT_MODEL"
    assert span.inputs["messages"][-1] == {"role": "user", "content": MATH[1]["prompt"]}
    assert span.outputs["choices"][0]["message"]["content"] == "4"
    assert span.attributes[SpanAttributeKey.CHAT_USAGE] == {"input_tokens": 20, "output_tokens": 1, "total_tokens": 21}
    assert span.attributes[SpanAttributeKey.MODEL] == "good"
    # a re-run writes no trace; a re-scored answer keeps its trace and its verdict tag follows the new verdict
    assert run(instance, "pack_results", keys)[0] and len(traces("math")) == 2 * len(MATH)
    edited = [{**item, "check": {"answer": 0}} if item["id"] == "add2" else item for item in MATH]
    make_pack(tmp / "packs", "math", edited, verifier="numeric")
    sync_instance(instance, CatalogResource())
    assert run(instance, "pack_definition", ["math"])[0] and run(instance, "pack_results", keys)[0]
    by = {(t.info.tags["variant"], t.info.tags["item"]): t for t in traces("math")}
    assert len(by) == 2 * len(MATH) and by[(GOOD, "add2")].info.tags["verdict"] == "failed"
    assert by[(BAD, "add2")].info.tags["verdict"] == "passed"
    records = instance.fetch_materializations(__import__("dagster").AssetKey("pack_results"), limit=1).records
    assert records[0].asset_materialization.metadata["traces"].value == "0 written, 1 updated"
    assert json.loads(json.dumps(span.inputs))  # plain JSON: what MLflow's UI and REST API serve


def test_traces_can_be_switched_off(scripted):
    endpoint, instance, tmp = scripted
    assert run(instance, "pack_definition", ["math"])[0] and run(instance, "pack_results", [key(GOOD, "math")])[0]
    records = instance.fetch_materializations(__import__("dagster").AssetKey("pack_results"), limit=1).records
    assert records[0].asset_materialization.metadata["traces"].value == "off (BEYOND_VIBES_PACK_TRACES=0)"


def test_traces_of_partitions_our_llama_server_answered_wait_until_its_engine_is_released(scripted, monkeypatch):
    """Writing traces costs MLflow's start-up (seconds): while our own llama-server answers (holding the engine pool,
    which other runs queue on) they wait, and are written when it stops (`after_serving`), every one of them. The
    served endpoint is stood in for here (no engine in the unit tier): an API variant whose endpoint says a server
    of ours is up."""
    from types import SimpleNamespace

    from beyond_vibes_assets.definitions import default_resources
    from beyond_vibes_assets.families.packs import PackFamily, PackScope
    from beyond_vibes_assets.resolve import Endpoint
    from beyond_vibes_assets.runner.family import Hooks

    endpoint, instance, tmp = scripted
    monkeypatch.setenv("BEYOND_VIBES_PACK_TRACES", "1")
    r = default_resources()
    catalog = CatalogResource()
    catalog.reload()
    family = PackFamily(PackScope(), catalog=catalog, object_store=r["object_store"], llama_server=r["llama_server"],
                        llm_clients=r["llm_clients"], warehouse=r["warehouse"])
    family.begin([GOOD])
    logs: list[str] = []
    hooks = Hooks("run-1", log=logs.append)
    prepared = family.prepare(GOOD, {"math": catalog.pack("math")}, hooks)
    ours = Endpoint(None, server=SimpleNamespace(alive=lambda: True, log_path="-"))
    ((name, recorded),) = list(family.run_variant(prepared, ours, hooks))
    assert name == "math" and recorded.metadata["sent"] == len(MATH)
    assert recorded.metadata["traces"] == "written once the engine is released (see the run log)"
    assert traces("math") == []  # nothing written while the server holds the engine
    family.after_serving(prepared, hooks)
    assert len(traces("math")) == len(MATH) and f"{GOOD} math: traces {len(MATH)} written, 0 updated" in logs
    family.after_serving(prepared, hooks)  # written once
    assert len(traces("math")) == len(MATH)
