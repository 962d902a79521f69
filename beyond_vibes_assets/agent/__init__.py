"""Agents at work: the sandboxed workspace and its tools (the agent loop and harness adapters come next)."""
