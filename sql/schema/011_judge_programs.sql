-- Judge programs: one row per (rubric, judge, backend, variant of the program) from the latest judge_program run:
-- the compiled program and its uncompiled baseline (and the MLflow judge), each with its agreement on the held-out
-- human labels, so the report shows what compilation bought and which judges are trusted.
CREATE TABLE IF NOT EXISTS judge_programs (
    rubric VARCHAR NOT NULL,
    judge VARCHAR NOT NULL,
    backend VARCHAR NOT NULL,
    program VARCHAR NOT NULL,
    program_hash VARCHAR,
    program_key VARCHAR,
    rubric_fingerprint VARCHAR,
    labels_hash VARCHAR,
    optimizer VARCHAR,
    n_train INTEGER,
    n_held_out INTEGER,
    scored INTEGER,
    coverage DOUBLE,
    kappa DOUBLE,
    kappa_low DOUBLE,                   -- 95% bootstrap interval of kappa; trust is decided on kappa_low
    kappa_high DOUBLE,
    spearman DOUBLE,
    within_1 DOUBLE,
    bias DOUBLE,
    failures VARCHAR,
    min_kappa DOUBLE,
    trusted BOOLEAN,
    trust_reason VARCHAR,
    judge_model_sha256 VARCHAR,
    judge_engine_build VARCHAR,
    run_id VARCHAR,
    compiled_at TIMESTAMP
);
