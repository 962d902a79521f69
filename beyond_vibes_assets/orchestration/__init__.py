"""Dagster glue: partition events, the engine pool slot, sensors, sync, staleness, checks over history,
deployment profiles and placement, the warm run launcher, orphaned runs. Domain code never imports it."""
