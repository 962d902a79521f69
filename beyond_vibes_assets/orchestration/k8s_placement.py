"""Per-variant placement on Kubernetes: the run tags that make the K8sRunLauncher put a variant's run where its engine
can run. A local variant whose engine offloads layers (`gpu_layers`) requests GPUs (`nvidia.com/gpu`, default 1);
the engine's optional `k8s:` block adds a node selector, tolerations and a GPU count. Tags are read by dagster-k8s
from `dagster-k8s/config`; `beyond_vibes/engine_pool` lets the queued run coordinator cap runs per engine (one
llama-server per GPU slot), see deploy/team/dagster.yaml and deploy/k8s/values.yaml.
"""

from __future__ import annotations

import json
from typing import Any

from ..catalog.variants import Variant

K8S_CONFIG_TAG = "dagster-k8s/config"
ENGINE_POOL_TAG = "beyond_vibes/engine_pool"


def placement(variant: Variant) -> dict[str, Any]:
    """The dagster-k8s config of a variant's runs (pure)."""
    engine = variant.engine
    if engine is None:  # an API model: a small CPU pod is enough
        return {"container_config": {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}}
    k8s = engine.k8s
    gpus = k8s.gpus if k8s and k8s.gpus is not None else (1 if engine.gpu_layers else 0)
    resources: dict[str, Any] = {"requests": {"cpu": str(engine.threads or 2), "memory": k8s.memory if k8s else "8Gi"}}
    if gpus:
        resources["limits"] = {"nvidia.com/gpu": str(gpus)}
    pod: dict[str, Any] = {}
    if k8s and k8s.node_selector:
        pod["node_selector"] = dict(k8s.node_selector)
    tolerations = list(k8s.tolerations) if k8s else []
    if gpus and not any(t.get("key") == "nvidia.com/gpu" for t in tolerations):
        tolerations.append({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
    if tolerations:
        pod["tolerations"] = tolerations
    return {"container_config": {"resources": resources}, **({"pod_spec_config": pod} if pod else {})}


def run_tags(variant: Variant) -> dict[str, str]:
    """Tags for a run of this variant under the k8s profile."""
    pool = f"{variant.engine_name}-gpu" if (variant.engine and (variant.engine.gpu_layers or
                                                                (variant.engine.k8s and variant.engine.k8s.gpus))) \
        else variant.engine_name
    return {K8S_CONFIG_TAG: json.dumps(placement(variant), sort_keys=True), ENGINE_POOL_TAG: pool}
