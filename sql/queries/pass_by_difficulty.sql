-- Pass counts per variant and difficulty (canonical runs), counted like the headline: the machine's failures left
-- out of n, the model's counted as wrong. Shows whether a model is off the floor and the ceiling.
SELECT s.variant, s.difficulty,
       count(*) FILTER (WHERE coalesce(o.owner, CASE WHEN s.failure_mode IS NULL THEN NULL ELSE 'machine' END)
                        IS DISTINCT FROM 'machine')::BIGINT AS n,
       count(*) FILTER (WHERE s.passed AND s.failure_mode IS NULL)::BIGINT AS n_passed
FROM current_samples s LEFT JOIN failure_owners o ON o.failure_mode = s.failure_mode
GROUP BY ALL ORDER BY s.variant, s.difficulty;
