"""lm-evaluation-harness tasks run against the platform's variants, with the platform's cache and warehouse."""
