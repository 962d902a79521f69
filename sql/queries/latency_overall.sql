-- Latency percentiles per variant over all its packs (the report's latency table).
SELECT * FROM latency_percentiles WHERE task = '*' ORDER BY variant;
