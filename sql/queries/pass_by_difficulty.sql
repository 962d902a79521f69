-- Pass counts per variant and difficulty (canonical runs): shows whether a model is off the floor and the ceiling.
SELECT variant, difficulty, count(*) AS n, count(*) FILTER (WHERE passed) AS n_passed
FROM samples WHERE canonical GROUP BY ALL ORDER BY variant, difficulty;
