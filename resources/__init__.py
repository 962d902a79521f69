"""ConfigurableResources: llama.cpp engine, LLM clients, HF hub, object store, warehouse, GPU telemetry."""

from .env import env_value
from .gpu import GpuTelemetry
from .hf_hub import HuggingFaceResource
from .llama_server import LlamaServerResource
from .llm_client import LLMClientResource
from .object_store import ObjectStoreResource
from .warehouse import WarehouseResource

__all__ = [
    "env_value",
    "GpuTelemetry",
    "HuggingFaceResource",
    "LLMClientResource",
    "LlamaServerResource",
    "ObjectStoreResource",
    "WarehouseResource",
]
