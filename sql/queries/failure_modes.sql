-- Failed calls by variant and failure mode: infrastructure and timeouts, never counted as wrong answers.
SELECT variant, failure_mode, count(*)::BIGINT AS n FROM current_samples WHERE failure_mode IS NOT NULL GROUP BY ALL ORDER BY variant, n DESC;
