"""The partitioned work families, Dagster-free: packs, sims, lm-eval tasks and judge scores, each a definition /
prepare / execute triple (runner/family.py) that fanout.py runs. A new harness or benchmark kind is a new module
here, not a fourth copy of the partition loop."""
