-- The previous probe of a variant: what the determinism check compares the new one with.
SELECT model_sha256, engine_build, determinism_hash FROM probes WHERE variant = ? ORDER BY created_at DESC LIMIT 1
