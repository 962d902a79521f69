-- Pass rate per variant and task, canonical runs only, failures (not answers) counted apart.
CREATE OR REPLACE VIEW pack_scores AS
SELECT
    variant, any_value(model) AS model, any_value(quant) AS quant, any_value(engine) AS engine, task,
    count(*) AS n,
    count(*) FILTER (WHERE passed) AS n_passed,
    count(*) FILTER (WHERE failure_mode IS NOT NULL) AS n_failed_calls,
    avg(CASE WHEN passed THEN 1.0 ELSE 0.0 END) AS pass_rate,
    avg(score) AS mean_score,
    median(ttft_s) AS median_ttft_s,
    median(decode_tps) AS median_decode_tps,
    median(server_predicted_tps) AS median_server_predicted_tps
FROM samples
WHERE canonical
GROUP BY variant, task;
