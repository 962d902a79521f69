-- Pass counts per variant and difficulty (canonical runs): shows whether a model is off the floor and the ceiling.
SELECT variant, difficulty, count(*)::BIGINT AS n, count(*) FILTER (WHERE passed AND failure_mode IS NULL)::BIGINT AS n_passed
FROM current_samples GROUP BY ALL ORDER BY variant, difficulty;
