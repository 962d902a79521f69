-- Score history of what the catalog holds now (retired members keep their rows but leave the plots).
SELECT h.* FROM score_history h
WHERE EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = h.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = h.kind AND m.name = h.task AND m.retired_at IS NULL)
ORDER BY h.recorded_at;
