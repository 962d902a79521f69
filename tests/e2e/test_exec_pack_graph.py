"""An execution-backed pack through the graph: answers from a real llama-server, executed in the real sandbox;
a re-materialization sends no request and runs no execution."""

import json
import shutil

import dagster as dg
import pytest

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.orchestration.sync import sync_instance
from beyond_vibes_assets.settings import REPO_ROOT
from resources.warehouse import WarehouseResource
from tests.conftest import MATH_ITEMS, latest_metadata

pytestmark = pytest.mark.e2e
VARIANT = "smol~Q4_1~cpu"


def meta(instance, partition):
    return latest_metadata(instance, "pack_results", partition)


def test_code_pack_executes_once_and_a_rerun_executes_nothing(smol_env):
    env = smol_env(packs={"math": (MATH_ITEMS[:1], {"verifier": "numeric", "max_tokens": 16})}, prepared=True)
    shutil.copytree(REPO_ROOT / "packs" / "code", env.packs / "code")
    items = env.packs / "code" / "items.jsonl"
    items.write_text("\n".join(items.read_text().splitlines()[:4]) + "\n")  # four items keep the test short
    inst = env.instance
    sync_instance(inst, CatalogResource())
    key = dg.MultiPartitionKey({"variant": VARIANT, "task": "code"})
    assert materialize(["pack_definition"], "code", instance=inst)
    assert materialize(["pack_results"], key, instance=inst)
    rows = WarehouseResource().query("SELECT sample_id, verdict_reason, verdict_detail, failure_mode, passed "
                                     "FROM samples WHERE task = 'code'")
    assert len(rows) == 4 and all(r["failure_mode"] is None for r in rows)
    ran = [r for r in rows if "code_from" in json.loads(r["verdict_detail"]) and r["verdict_reason"] != "no code in the reply"]
    first = meta(inst, key)
    assert first["sent"].value == 4 and first["executions"].value == len(ran)

    assert materialize(["pack_results"], key, instance=inst)
    again = meta(inst, key)
    assert again["sent"].value == 0 and again["executions"].value == 0
    assert WarehouseResource().query("SELECT count(*) AS n FROM samples WHERE task = 'code'") == [{"n": 4}]
