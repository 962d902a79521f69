-- Run manifest: everything needed to reproduce a (variant, task) result.
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    variant VARCHAR NOT NULL,
    task VARCHAR,
    harness_commit VARCHAR,
    harness_dirty BOOLEAN,
    model_sha256 VARCHAR,
    engine_build VARCHAR,
    engine_version VARCHAR,
    server_props VARCHAR,
    sampling_params VARCHAR,
    canonical BOOLEAN,
    host VARCHAR,
    n_samples INTEGER,
    n_cached INTEGER,
    n_sent INTEGER,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
