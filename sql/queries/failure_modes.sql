-- Failures by variant, mode and owner: the model's count as wrong answers, the machine's are left out of every rate.
SELECT s.variant, s.failure_mode, coalesce(o.owner, 'machine') AS owner, count(*)::BIGINT AS n
FROM current_samples s LEFT JOIN failure_owners o ON o.failure_mode = s.failure_mode
WHERE s.failure_mode IS NOT NULL GROUP BY ALL ORDER BY s.variant, n DESC;
