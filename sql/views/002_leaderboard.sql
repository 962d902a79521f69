-- One row per current variant. Like with like: the pack set is every pack some current variant has scores for;
-- only variants with a (strict) rate on every pack of that set are ranked (`rank`), the others are shown with
-- their coverage and rank NULL. The headline rate is the mean of the per-pack strict rates; its 95% interval is
-- a Wald-type interval around it whose variance pools the per-pack Agresti-Coull variances (sum(var_i) / k^2),
-- clipped to [0, 1], so the rate always lies inside it. Latency over answered calls; the latest probe beside it.
CREATE OR REPLACE VIEW leaderboard AS
WITH pack_set AS (
    SELECT count(DISTINCT task)::BIGINT AS packs_total FROM pack_scores WHERE pass_rate IS NOT NULL
), per_variant AS (
    SELECT variant, any_value(model) AS model, any_value(quant) AS quant, any_value(engine) AS engine,
           avg(pass_rate) AS pass_rate, avg(answered_rate) AS answered_rate,
           sqrt(sum(rate_var) FILTER (WHERE pass_rate IS NOT NULL)) / nullif(count(pass_rate), 0) AS rate_se,
           count(pass_rate)::BIGINT AS packs, sum(n)::BIGINT AS n, sum(n_answered)::BIGINT AS n_answered,
           sum(n_passed)::BIGINT AS n_passed, sum(n_failed_calls)::BIGINT AS n_failed_calls,
           sum(n_model_failed)::BIGINT AS n_model_failed, sum(n_scored)::BIGINT AS n_scored,
           sum(n_stale)::BIGINT AS n_stale, count(*) FILTER (WHERE n_stale > 0)::BIGINT AS stale_packs
    FROM pack_scores GROUP BY variant
), ranked AS (
    SELECT v.*, s.packs_total, v.packs = s.packs_total AS complete
    FROM per_variant v CROSS JOIN pack_set s
), latency AS (
    SELECT variant, median(ttft_s) AS median_ttft_s, median(decode_tps) AS median_decode_tps,
           median(server_predicted_tps) AS median_server_predicted_tps
    FROM current_samples WHERE failure_mode IS NULL GROUP BY variant
), probe AS (  -- the latest probe of each variant (portable: no EXCLUDE, runs on DuckDB and Postgres)
    SELECT p.* FROM probes p
    WHERE p.created_at = (SELECT max(q.created_at) FROM probes q WHERE q.variant = p.variant)
)
SELECT CASE WHEN v.complete THEN rank() OVER (PARTITION BY v.complete ORDER BY v.pass_rate DESC) END AS ranking,
       v.variant, v.model, v.quant, v.engine, v.pass_rate, v.answered_rate,
       greatest(0.0, v.pass_rate - 1.96 * v.rate_se) AS ci_low, least(1.0, v.pass_rate + 1.96 * v.rate_se) AS ci_high,
       v.packs, v.packs_total, v.complete, v.n_passed, v.n_scored, v.n_answered, v.n, v.n_failed_calls,
       v.n_model_failed, v.n_stale, v.stale_packs,
       l.median_ttft_s, l.median_decode_tps, l.median_server_predicted_tps,
       p.server_prompt_tps AS probe_prompt_tps, p.server_predicted_tps AS probe_gen_tps,
       p.client_decode_tps AS probe_client_decode_tps, p.bench_pp_tps, p.bench_tg_tps,
       p.perplexity, p.peak_rss_bytes, p.load_time_s, p.deterministic
FROM ranked v LEFT JOIN latency l USING (variant) LEFT JOIN probe p USING (variant)
ORDER BY v.complete DESC, v.pass_rate DESC, l.median_decode_tps DESC NULLS LAST;
