"""Partition definitions and key helpers shared by every asset."""

from .definitions import LMEVAL_TASKS, RUBRICS, SIMS, TASKS, VARIANT_LMEVAL, VARIANT_SIM, VARIANT_TASK, VARIANTS
from .keys import API_QUANT, VariantKey, make_variant_key, make_weights_key, parse_variant_key, slugify, split_multi_key

__all__ = [
    "API_QUANT",
    "LMEVAL_TASKS",
    "VARIANT_LMEVAL",
    "RUBRICS",
    "SIMS",
    "TASKS",
    "VARIANTS",
    "VARIANT_SIM",
    "VARIANT_TASK",
    "VariantKey",
    "make_variant_key",
    "make_weights_key",
    "parse_variant_key",
    "slugify",
    "split_multi_key",
]
