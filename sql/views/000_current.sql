-- Canonical rows of what the catalog holds now: current variants, current packs, current items of each pack.
-- Every headline view reads these, never the raw tables (retired rows stay in samples for history).
CREATE OR REPLACE VIEW current_samples AS
SELECT s.* FROM samples s
WHERE s.canonical
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'pack' AND m.name = s.task AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_items i WHERE i.task = s.task AND i.sample_id = s.sample_id);

-- Episodes: the canonical series only (default harness and settings); pi, native tool calls, other switches are
-- their own series, compared in the report's harness table and never mixed into the headline, history or gate.
CREATE OR REPLACE VIEW current_episodes AS
SELECT e.* FROM sim_episodes e
WHERE e.canonical AND e.series = 'canonical'
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = e.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'sim' AND m.name = e.sim AND m.retired_at IS NULL);
