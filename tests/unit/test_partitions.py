import dagster as dg
import pytest

from beyond_vibes_assets.orchestration.sync import plan_sync
from partitions import make_variant_key, parse_variant_key, slugify, split_multi_key


def test_variant_key_roundtrip():
    key = make_variant_key("smollm2", "Q4_K_M", "cpu")
    assert key == "smollm2~Q4_K_M~cpu"
    parsed = parse_variant_key(key)
    assert parsed.weights_key == "smollm2~Q4_K_M" and not parsed.is_api
    assert parse_variant_key("gpt~api~openai").is_api


@pytest.mark.parametrize("bad", [("a|b", "Q4", "cpu"), ("a", "Q4~x", "cpu"), ("a", "Q4", "c/pu"), ("", "Q4", "cpu")])
def test_variant_key_rejects_separators(bad):
    with pytest.raises(ValueError):
        make_variant_key(*bad)


def test_slugify_hf_repo_ids():
    assert slugify("HuggingFaceTB/SmolLM2-135M") == "HuggingFaceTB--SmolLM2-135M"


def test_split_multi_key_both_forms():
    mk = dg.MultiPartitionKey({"variant": "m~q~e", "task": "toolcall"})
    assert split_multi_key(mk) == ("m~q~e", "toolcall")
    assert split_multi_key(str(mk)) == ("m~q~e", "toolcall")


def test_plan_sync_adds_and_reports_removed():
    plan = plan_sync(["a~q~e", "b~q~e"], ["p1"], ["a~q~e", "old~q~e"], ["p1", "gone"])
    assert plan.add_variants == ["b~q~e"] and plan.remove_variants == ["old~q~e"]
    assert plan.remove_tasks == ["gone"] and not plan.add_tasks
    assert any("old~q~e" in line and "no longer in the catalog" in line for line in plan.lines())
    assert plan_sync(["a"], ["p"], ["a"], ["p"]).empty
