"""Partition definitions and key helpers shared by every asset."""

from .definitions import SIMS, TASKS, VARIANT_SIM, VARIANT_TASK, VARIANTS
from .keys import API_QUANT, VariantKey, make_variant_key, make_weights_key, parse_variant_key, slugify, split_multi_key

__all__ = [
    "API_QUANT",
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
