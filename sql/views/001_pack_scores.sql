-- Pass rate per current variant and current pack, over the pack's current items (canonical runs only).
-- Failed calls (timeouts, dead endpoints) are counted apart: the rate is over answered items only.
-- rate_var is the Agresti-Coull variance of the rate (honest at 0% and 100%); the leaderboard pools it.
CREATE OR REPLACE VIEW pack_scores AS
WITH counted AS (
    SELECT
        variant, any_value(model) AS model, any_value(quant) AS quant, any_value(engine) AS engine, task,
        any_value(task_fingerprint) AS task_fingerprint,
        count(*)::BIGINT AS n,
        count(*) FILTER (WHERE failure_mode IS NULL)::BIGINT AS n_answered,
        count(*) FILTER (WHERE passed AND failure_mode IS NULL)::BIGINT AS n_passed,
        count(*) FILTER (WHERE failure_mode IS NOT NULL)::BIGINT AS n_failed_calls,
        avg(score) FILTER (WHERE failure_mode IS NULL) AS mean_score,
        median(ttft_s) AS median_ttft_s,
        median(decode_tps) AS median_decode_tps,
        median(server_predicted_tps) AS median_server_predicted_tps
    FROM current_samples
    GROUP BY variant, task
)
SELECT *,
       CASE WHEN n_answered > 0 THEN n_passed / n_answered END AS pass_rate,
       ((n_passed + 2.0) / (n_answered + 4.0)) * (1 - (n_passed + 2.0) / (n_answered + 4.0)) / (n_answered + 4.0) AS rate_var
FROM counted;
