"""The three top-level packages import from this repo (their names are generic), and the location loads."""

import importlib

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("name", ["beyond_vibes_assets", "resources", "partitions"])
def test_package_imports_from_this_repo(name):
    module = importlib.import_module(name)
    assert REPO in __import__("pathlib").Path(module.__file__).resolve().parents


def test_definitions_load_and_pin_the_asset_graph():
    import dagster as dg

    from beyond_vibes_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"engine_build", "model_weights", "engine_probe", "pack_definition", "pack_results",
                    "sim_definition", "sim_episodes", "lm_eval_results", "judge_program", "judge_scores",
                    "curated_dataset", "report"}
    partitions = {k.to_user_string(): type(graph.get(k).partitions_def).__name__ for k in graph.get_all_asset_keys()}
    assert partitions["pack_results"] == "MultiPartitionsDefinition"
    assert partitions["engine_probe"] == "DynamicPartitionsDefinition"
    assert partitions["report"] == "NoneType"
    assert partitions["judge_scores"] == "MultiPartitionsDefinition" and partitions["judge_program"] == "DynamicPartitionsDefinition"
    checks = {c.name for c in graph.asset_check_keys}
    assert {"deterministic", "thermals_ok", "every_item_once", "every_episode_once", "no_regression",
            "steady_speed", "judge_agreement"} <= checks, checks  # fails when it finds none
    dg.Definitions.validate_loadable(defs)
