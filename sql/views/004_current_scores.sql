-- What `baseline save` snapshots and `gate` compares: current canonical rates per variant x pack and x sim, strict
-- (the machine's failures excluded, the model's counted as wrong); n_answered is the rate's denominator.
CREATE OR REPLACE VIEW current_scores AS
SELECT 'pack' AS kind, variant, task, task_fingerprint AS fingerprint, n_scored AS n_answered, n_passed,
       pass_rate AS rate, median_ttft_s,
       (SELECT median(latency_s) FROM current_samples c
        WHERE c.variant = p.variant AND c.task = p.task AND c.failure_mode IS NULL) AS median_latency_s,
       median_decode_tps
FROM pack_scores p
UNION ALL
SELECT 'sim', variant, sim, any_value(sim_fingerprint), count(*)::BIGINT, count(*) FILTER (WHERE success)::BIGINT,
       avg(CASE WHEN success THEN 1.0 ELSE 0.0 END), NULL, median(wall_s), NULL
FROM current_episodes WHERE stop_reason NOT IN ('endpoint_failure', 'sandbox_error')  -- the machine's failures
GROUP BY variant, sim
UNION ALL
SELECT 'lmeval', s.variant, s.lm_task, s.lm_task || '@' || s.task_version, c.n_scored, c.n_passed,
       CASE WHEN c.n_scored > 0 THEN c.n_passed / c.n_scored END, NULL, c.median_latency_s, NULL
FROM lmeval_scores s
JOIN (SELECT x.variant, x.lm_task,
             count(*) FILTER (WHERE x.failure_mode IS NULL OR coalesce(o.owner, 'machine') = 'model')::BIGINT AS n_scored,
             count(*) FILTER (WHERE x.passed AND x.failure_mode IS NULL)::BIGINT AS n_passed,
             median(x.latency_s) AS median_latency_s
      FROM lmeval_samples x LEFT JOIN failure_owners o ON o.failure_mode = x.failure_mode
      GROUP BY x.variant, x.lm_task) c ON c.variant = s.variant AND c.lm_task = s.lm_task
WHERE EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'lmeval' AND m.name = s.lm_task AND m.retired_at IS NULL);
