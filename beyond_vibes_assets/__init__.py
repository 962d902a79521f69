"""Beyond Vibes: measured, reproducible model evaluation as a Dagster asset graph."""

__version__ = "0.1.0"
