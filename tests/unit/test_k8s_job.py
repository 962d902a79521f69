"""Kubernetes placement, tested without a cluster: the real dagster-k8s job-construction code builds the Job spec of a
pack run of a GPU variant from our run tags and the Helm values' launcher settings; the spec requests the GPU, uses
the image, takes its environment from the secret by reference and carries the node placement; the run has the pool
tag the queued coordinator limits."""

import json

import pytest
import yaml

from beyond_vibes_assets.catalog.models_config import load_catalog
from beyond_vibes_assets.catalog.variants import variants
from beyond_vibes_assets.orchestration.k8s_placement import ENGINE_POOL_TAG, K8S_CONFIG_TAG, run_tags
from tests.conftest import REPO

dagster_k8s = pytest.importorskip("dagster_k8s")  # a dev dependency (pinned with dagster)

CONFIG = """
engines:
  - name: cuda
    gpu_layers: 99
    threads: 8
    k8s:
      node_selector: { nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3 }
      tolerations: [{ key: dedicated, operator: Equal, value: gpu, effect: NoSchedule }]
      memory: 32Gi
  - name: cpu
    threads: 4
models:
  - name: smol
    repo_id: HuggingFaceTB/SmolLM2-135M-Instruct-GGUF
    quant_tags: [Q4_1]
    engines: [cuda, cpu]
  - name: gpt
    provider: openai
    model_id: gpt-4o-mini
    api_key_env: OPENAI_API_KEY
"""


def _variants(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(CONFIG)
    return {v.key: v for v in variants(load_catalog(path))}


def test_job_spec_of_a_gpu_variant_run(tmp_path):
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job, get_user_defined_k8s_config

    values = yaml.safe_load((REPO / "deploy" / "k8s" / "values.yaml").read_text())
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    deployment = values["dagster-user-deployments"]["deployments"][0]
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    variant = _variants(tmp_path)["smol~Q4_1~cuda"]
    tags = {**run_tags(variant), "dagster/partition": "math|smol~Q4_1~cuda"}
    assert tags[ENGINE_POOL_TAG] == "cuda-gpu"

    job_config = DagsterK8sJobConfig(job_image=image, dagster_home="/opt/dagster/dagster_home",
                                     instance_config_map="bv-dagster-instance",
                                     env_secrets=[s["name"] for s in launcher["envSecrets"]],
                                     env_vars=launcher["envVars"])
    job = construct_dagster_k8s_job(job_config, args=["dagster", "api", "execute_run", "{}"], job_name="dagster-run-abc",
                                    user_defined_k8s_config=get_user_defined_k8s_config(tags))
    spec = job.to_dict()["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "ghcr.io/beyond-vibes/beyond-vibes:0.1.0"
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert container["resources"]["requests"] == {"cpu": "8", "memory": "32Gi"}
    assert spec["node_selector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert {t["key"] for t in spec["tolerations"]} == {"dedicated", "nvidia.com/gpu"}
    # secrets by reference only: the secret's name, never a value
    assert [e["secret_ref"]["name"] for e in container["env_from"] if e.get("secret_ref")] == ["beyond-vibes-secrets"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["BEYOND_VIBES_PROFILE"] == "k8s"
    assert not any("KEY" in name or "PASSWORD" in name or "DSN" in name for name in env)


def test_cpu_and_api_variants_request_no_gpu_and_the_coordinator_limits_per_pool(tmp_path):
    by_key = _variants(tmp_path)
    cpu = json.loads(run_tags(by_key["smol~Q4_1~cpu"])[K8S_CONFIG_TAG])
    assert "limits" not in cpu["container_config"]["resources"] and "pod_spec_config" not in cpu
    api = run_tags(by_key["gpt~api~openai"])
    assert api[ENGINE_POOL_TAG] == "openai" and "nvidia.com/gpu" not in api[K8S_CONFIG_TAG]
    values = yaml.safe_load((REPO / "deploy" / "k8s" / "values.yaml").read_text())
    limits = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert limits == [{"key": ENGINE_POOL_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
