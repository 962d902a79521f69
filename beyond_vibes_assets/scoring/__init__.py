"""Pure verifiers and extraction helpers: testable without Dagster or a model."""
