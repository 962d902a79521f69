"""Quant precision: which of two GGUF quant types keeps more of the model, for comparisons and labels.

Ordered by llama.cpp's nominal bits per weight. A quant derived *upward* from a lower-precision file (Q8_0
made from a Q4_1) cannot be better than its source, so every table that compares it says so.
"""

from __future__ import annotations

import re

# nominal bits per weight (llama.cpp's quantize --help); unknown tags fall back to the digits in their name
BITS = {"F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_1": 6.0, "Q5_K_M": 5.69,
        "Q5_K_S": 5.54, "Q5_0": 5.5, "Q4_1": 5.0, "Q4_K_M": 4.89, "Q4_K_S": 4.58, "Q4_0": 4.5, "IQ4_NL": 4.5,
        "IQ4_XS": 4.25, "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5, "IQ3_M": 3.66, "IQ3_S": 3.44,
        "IQ3_XS": 3.3, "IQ3_XXS": 3.06, "Q2_K": 3.35, "Q2_K_S": 2.96, "IQ2_M": 2.7, "IQ2_S": 2.5,
        "IQ2_XS": 2.31, "IQ2_XXS": 2.06, "IQ1_M": 1.75, "IQ1_S": 1.56}


def quant_bits(tag: str) -> float:
    tag = tag.upper()
    if tag in BITS:
        return BITS[tag]
    digits = re.search(r"(\d+)", tag)
    return float(digits.group(1)) if digits else 0.0


def highest_precision(tags: list[str]) -> str:
    return max(tags, key=quant_bits)


def bounded_by(quant: str, derived_from: str | None) -> str | None:
    """The source quant when `quant` was derived upward from it (its quality is bounded by the source)."""
    if derived_from and quant_bits(derived_from) < quant_bits(quant):
        return derived_from
    return None
