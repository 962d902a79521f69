-- Judge scores: one row per (episode, rubric criterion, judge), replaced per (variant, sim). A failed judge call is
-- a failure_mode with no score. program_hash and kappa say which compiled program scored it and how far that
-- program agrees with people.
CREATE TABLE IF NOT EXISTS judge_scores (
    variant VARCHAR NOT NULL,
    model VARCHAR,
    quant VARCHAR,
    engine VARCHAR,
    sim VARCHAR NOT NULL,
    archetype VARCHAR,
    episode_id VARCHAR NOT NULL,
    trace_id VARCHAR,
    repeat INTEGER,
    rubric VARCHAR NOT NULL,
    criterion VARCHAR NOT NULL,
    judge VARCHAR NOT NULL,
    score INTEGER,
    rationale VARCHAR,
    failure_mode VARCHAR,
    program_hash VARCHAR,
    kappa DOUBLE,
    trusted BOOLEAN,
    content_hash VARCHAR,
    cache_key VARCHAR,
    cached BOOLEAN,
    latency_s DOUBLE,
    judge_model_sha256 VARCHAR,
    judge_engine_build VARCHAR,
    run_id VARCHAR,
    scored_at TIMESTAMP
);
