-- One row per current variant. The headline rate is the mean of its per-pack rates; its 95% interval pools
-- the per-pack Agresti-Coull variances (var = sum(var_i) / k^2), so the rate always lies inside it.
-- Latency over answered calls; the latest probe beside it.
CREATE OR REPLACE VIEW leaderboard AS
WITH per_variant AS (
    SELECT variant, any_value(model) AS model, any_value(quant) AS quant, any_value(engine) AS engine,
           avg(pass_rate) AS pass_rate,
           sqrt(sum(rate_var) FILTER (WHERE pass_rate IS NOT NULL)) / nullif(count(pass_rate), 0) AS rate_se,
           count(pass_rate)::BIGINT AS packs, sum(n)::BIGINT AS n, sum(n_answered)::BIGINT AS n_answered,
           sum(n_passed)::BIGINT AS n_passed, sum(n_failed_calls)::BIGINT AS n_failed_calls
    FROM pack_scores GROUP BY variant
), latency AS (
    SELECT variant, median(ttft_s) AS median_ttft_s, median(decode_tps) AS median_decode_tps,
           median(server_predicted_tps) AS median_server_predicted_tps
    FROM current_samples WHERE failure_mode IS NULL GROUP BY variant
), probe AS (  -- the latest probe of each variant (portable: no EXCLUDE, runs on DuckDB and Postgres)
    SELECT p.* FROM probes p
    WHERE p.created_at = (SELECT max(q.created_at) FROM probes q WHERE q.variant = p.variant)
)
SELECT v.variant, v.model, v.quant, v.engine, v.pass_rate,
       greatest(0.0, v.pass_rate - 1.96 * v.rate_se) AS ci_low, least(1.0, v.pass_rate + 1.96 * v.rate_se) AS ci_high,
       v.packs, v.n_passed, v.n_answered, v.n, v.n_failed_calls,
       l.median_ttft_s, l.median_decode_tps, l.median_server_predicted_tps,
       p.server_prompt_tps AS probe_prompt_tps, p.server_predicted_tps AS probe_gen_tps,
       p.client_decode_tps AS probe_client_decode_tps, p.bench_pp_tps, p.bench_tg_tps,
       p.perplexity, p.peak_rss_bytes, p.load_time_s, p.deterministic
FROM per_variant v LEFT JOIN latency l USING (variant) LEFT JOIN probe p USING (variant)
ORDER BY v.pass_rate DESC, l.median_decode_tps DESC NULLS LAST;
