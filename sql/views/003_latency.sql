-- Latency distributions per current variant, overall (task = '*') and per pack: p50 / p90 / p99 of TTFT,
-- end-to-end latency and decode tok/s over answered calls (canonical runs). Tail figures sit beside medians.
CREATE OR REPLACE VIEW latency_percentiles AS
SELECT variant, coalesce(task, '*') AS task, count(*)::BIGINT AS n,
       quantile_cont(ttft_s, 0.5) AS ttft_p50, quantile_cont(ttft_s, 0.9) AS ttft_p90, quantile_cont(ttft_s, 0.99) AS ttft_p99,
       quantile_cont(latency_s, 0.5) AS latency_p50, quantile_cont(latency_s, 0.9) AS latency_p90,
       quantile_cont(latency_s, 0.99) AS latency_p99,
       quantile_cont(decode_tps, 0.5) AS decode_tps_p50, quantile_cont(decode_tps, 0.1) AS decode_tps_p10,
       quantile_cont(decode_tps, 0.01) AS decode_tps_p01
FROM current_samples WHERE failure_mode IS NULL
GROUP BY GROUPING SETS ((variant), (variant, task))
ORDER BY variant, task;
