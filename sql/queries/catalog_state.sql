-- The catalog state the report reflects: current packs and sims with their fingerprints, current variants.
SELECT kind, name, fingerprint, items, first_seen FROM catalog_members WHERE retired_at IS NULL ORDER BY kind, name;
