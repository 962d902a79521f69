-- Per-variant, per-pack pass counts for the report's matrix (canonical runs only).
SELECT variant, task, n, n_scored, n_answered, n_passed, n_failed_calls, n_model_failed, n_stale, pass_rate, answered_rate
FROM pack_scores ORDER BY variant, task;
