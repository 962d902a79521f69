-- Named snapshots of the current canonical scores and latency (`beyond-vibes baseline save NAME`), for `gate`.
CREATE TABLE IF NOT EXISTS baselines (
    baseline VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    variant VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    fingerprint VARCHAR,                -- the task as it was (items, verifiers): another one is "not comparable"
    n_answered INTEGER,
    n_passed INTEGER,
    rate DOUBLE,
    median_ttft_s DOUBLE,
    median_latency_s DOUBLE,
    median_decode_tps DOUBLE,
    harness_commit VARCHAR,
    saved_at TIMESTAMP
);
