-- What `baseline save` snapshots and `gate` compares: current canonical rates per variant x pack and x sim.
CREATE OR REPLACE VIEW current_scores AS
SELECT 'pack' AS kind, variant, task, n_answered, n_passed, pass_rate AS rate, median_ttft_s,
       (SELECT median(latency_s) FROM current_samples c
        WHERE c.variant = p.variant AND c.task = p.task AND c.failure_mode IS NULL) AS median_latency_s,
       median_decode_tps
FROM pack_scores p
UNION ALL
SELECT 'sim', variant, sim, count(*)::BIGINT, count(*) FILTER (WHERE success)::BIGINT,
       avg(CASE WHEN success THEN 1.0 ELSE 0.0 END), NULL, median(wall_s), NULL
FROM current_episodes WHERE stop_reason <> 'endpoint_failure'  -- a dead endpoint is not a failed task
GROUP BY variant, sim;
