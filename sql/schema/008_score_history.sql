-- Append-only: one row per canonical materialization of a scored partition (a pack or a sim for one variant).
-- Never replaced or deleted by a re-run (samples and sim_episodes keep replace-a-partition); regressions are
-- judged against a variant x task's own history here.
CREATE TABLE IF NOT EXISTS score_history (
    kind VARCHAR NOT NULL,              -- pack | sim
    variant VARCHAR NOT NULL,
    model VARCHAR,
    quant VARCHAR,
    engine VARCHAR,
    task VARCHAR NOT NULL,
    n INTEGER,                          -- items (episodes) in the partition
    n_answered INTEGER,                 -- replies scored (no failure of any owner): the answered rate's denominator
    n_passed INTEGER,
    n_failed_calls INTEGER,             -- the machine's failures (dead endpoint, sandbox error, ...): excluded
    n_model_failed INTEGER,             -- the model's failures (code that never ends, timeout, overflow): wrong answers
    rate DOUBLE,                        -- strict: passed / (n - n_failed_calls), the headline
    answered_rate DOUBLE,               -- passed / n_answered, shown beside it
    ci_low DOUBLE,                      -- 95% Wilson interval of the (strict) rate
    ci_high DOUBLE,
    median_ttft_s DOUBLE,
    median_latency_s DOUBLE,
    median_decode_tps DOUBLE,
    decode_vs_probe DOUBLE,             -- median decode tok/s x concurrency / probe decode tok/s (1 = as probed)
    foreign_cpu_share DOUBLE,           -- share of the machine's CPU other processes used while answers were generated
    slowed BOOLEAN,                     -- foreign_cpu_share above the allowed share: the speed figures are suspect
    foreign_load VARCHAR,               -- what else ran when slowed: foreign engines by pid and model file, load
    load_at_start DOUBLE,               -- 1-minute load average / CPU count when the run started
    harness_commit VARCHAR,
    harness_dirty BOOLEAN,
    model_sha256 VARCHAR,
    engine_build VARCHAR,
    task_fingerprint VARCHAR,
    sampling_params VARCHAR,
    answers_digest VARCHAR,             -- hash of the answers scored (cache keys): a point is a new measurement
    run_id VARCHAR,
    recorded_at TIMESTAMP NOT NULL
);
