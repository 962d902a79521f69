-- Pass rate per current variant and current pack, over the pack's current items (canonical runs only), counted by
-- the one rule (failure_owners, scoring/outcomes.py): the machine's failures (dead endpoint, sandbox error) are
-- excluded; the model's (code that never ends, timeout, context overflow, malformed reply) count as wrong.
-- pass_rate is the strict rate (headline): passed / (items - machine failures); answered_rate is passed / replies
-- scored. rate_var is the Agresti-Coull variance of the strict rate (honest at 0% and 100%); the leaderboard pools it.
-- n_stale counts rows scored under another version of the pack (items or verifier code changed since): they still
-- count until the partition is re-run, and every table that shows the rate marks them.
CREATE OR REPLACE VIEW pack_scores AS
WITH owned AS (
    SELECT s.*, CASE WHEN s.failure_mode IS NULL THEN NULL ELSE coalesce(o.owner, 'machine') END AS failure_owner,
           m.fingerprint IS NOT NULL AND s.task_fingerprint IS DISTINCT FROM m.fingerprint AS stale_row
    FROM current_samples s
    LEFT JOIN failure_owners o ON o.failure_mode = s.failure_mode
    LEFT JOIN catalog_members m ON m.kind = 'pack' AND m.name = s.task AND m.retired_at IS NULL
), counted AS (
    SELECT
        variant, any_value(model) AS model, any_value(quant) AS quant, any_value(engine) AS engine, task,
        any_value(task_fingerprint) AS task_fingerprint,
        count(*)::BIGINT AS n,
        count(*) FILTER (WHERE failure_mode IS NULL)::BIGINT AS n_answered,
        count(*) FILTER (WHERE passed AND failure_mode IS NULL)::BIGINT AS n_passed,
        count(*) FILTER (WHERE failure_owner = 'machine')::BIGINT AS n_failed_calls,
        count(*) FILTER (WHERE failure_owner = 'model')::BIGINT AS n_model_failed,
        count(*) FILTER (WHERE stale_row)::BIGINT AS n_stale,
        avg(score) FILTER (WHERE failure_mode IS NULL) AS mean_score,
        median(ttft_s) AS median_ttft_s,
        median(decode_tps) AS median_decode_tps,
        median(server_predicted_tps) AS median_server_predicted_tps
    FROM owned
    GROUP BY variant, task
)
SELECT *,
       n - n_failed_calls AS n_scored,
       CASE WHEN n - n_failed_calls > 0 THEN n_passed / (n - n_failed_calls) END AS pass_rate,
       CASE WHEN n_answered > 0 THEN n_passed / n_answered END AS answered_rate,
       ((n_passed + 2.0) / (n - n_failed_calls + 4.0)) * (1 - (n_passed + 2.0) / (n - n_failed_calls + 4.0))
           / (n - n_failed_calls + 4.0) AS rate_var
FROM counted;
