-- What the catalog holds, as last recorded: one row per variant, pack and sim ever seen, with the date it left.
-- Views count only current members, so a retired pack or variant never mixes into a headline; its rows stay.
CREATE TABLE IF NOT EXISTS catalog_members (
    kind VARCHAR NOT NULL,          -- variant | pack | sim
    name VARCHAR NOT NULL,
    fingerprint VARCHAR,            -- pack/sim fingerprint (items + verifier code versions); NULL for variants
    items INTEGER,                  -- current item count of a pack
    first_seen TIMESTAMP,           -- NULL when only its rows were ever seen (retired before state was recorded)
    retired_at TIMESTAMP,           -- NULL while the catalog holds it
    recorded_at TIMESTAMP
);
-- The items each current pack holds now: answers to removed items are kept in samples but do not count.
CREATE TABLE IF NOT EXISTS catalog_items (
    task VARCHAR NOT NULL,
    sample_id VARCHAR NOT NULL
);
