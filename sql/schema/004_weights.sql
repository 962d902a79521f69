-- Model files: where each model~quant came from and what it is (sha256, GGUF header facts).
CREATE TABLE IF NOT EXISTS weights (
    weights_key VARCHAR NOT NULL,
    model VARCHAR,
    quant VARCHAR,
    origin VARCHAR,
    derived_from VARCHAR,
    revision VARCHAR,
    sha256 VARCHAR,
    size_bytes BIGINT,
    architecture VARCHAR,
    parameters BIGINT,
    file_type VARCHAR,
    object_uri VARCHAR,
    created_at TIMESTAMP
);
