-- What `baseline save` snapshots and `gate` compares: current canonical rates per variant x pack and x sim, strict
-- (the machine's failures excluded, the model's counted as wrong); n_answered is the rate's denominator.
CREATE OR REPLACE VIEW current_scores AS
SELECT 'pack' AS kind, variant, task, n_scored AS n_answered, n_passed, pass_rate AS rate, median_ttft_s,
       (SELECT median(latency_s) FROM current_samples c
        WHERE c.variant = p.variant AND c.task = p.task AND c.failure_mode IS NULL) AS median_latency_s,
       median_decode_tps
FROM pack_scores p
UNION ALL
SELECT 'sim', variant, sim, count(*)::BIGINT, count(*) FILTER (WHERE success)::BIGINT,
       avg(CASE WHEN success THEN 1.0 ELSE 0.0 END), NULL, median(wall_s), NULL
FROM current_episodes WHERE stop_reason NOT IN ('endpoint_failure', 'sandbox_error')  -- the machine's failures
GROUP BY variant, sim
UNION ALL
SELECT 'lmeval', s.variant, s.lm_task, s.n::BIGINT,
       (SELECT count(*) FROM lmeval_samples x WHERE x.variant = s.variant AND x.lm_task = s.lm_task AND x.passed)::BIGINT,
       s.value, NULL,
       (SELECT median(latency_s) FROM lmeval_samples x WHERE x.variant = s.variant AND x.lm_task = s.lm_task), NULL
FROM lmeval_scores s
WHERE EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'lmeval' AND m.name = s.lm_task AND m.retired_at IS NULL);
