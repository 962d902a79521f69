"""Field values outside a run. Dagster resolves `dg.EnvVar` fields when a run starts; the CLI also calls resources
directly (inspect, gate, report data), where such a field still holds the variable's name."""

from __future__ import annotations

from typing import Any

import dagster as dg


def env_value(value: Any) -> Any:
    if isinstance(value, dg.EnvVar):
        return value.get_value()
    return value
