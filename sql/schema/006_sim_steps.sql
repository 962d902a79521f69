-- One row per step of an episode: a model call (reply, tool calls, tokens, timing) or a tool call (arguments, result).
CREATE TABLE IF NOT EXISTS sim_steps (
    episode_id VARCHAR NOT NULL,
    variant VARCHAR NOT NULL,
    sim VARCHAR NOT NULL,
    step_index INTEGER NOT NULL,
    kind VARCHAR,
    started_s DOUBLE,
    duration_s DOUBLE,
    tool VARCHAR,
    arguments VARCHAR,
    ok BOOLEAN,
    error_kind VARCHAR,
    exit_code INTEGER,
    observation VARCHAR,
    reply VARCHAR,
    tool_calls VARCHAR,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    ttft_s DOUBLE,
    decode_tps DOUBLE,
    failure_mode VARCHAR,
    format_error VARCHAR
);
