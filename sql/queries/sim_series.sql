-- Success per series (canonical = default harness and settings; pi, native tool calls, other switches), per current
-- variant and sim: the harness comparison, row by row. Non-canonical series never enter the headline.
SELECT e.variant, e.sim, coalesce(e.series, 'canonical') AS series, count(*)::BIGINT AS n,
       count(*) FILTER (WHERE e.success)::BIGINT AS n_success
FROM sim_episodes e
WHERE e.series IS NOT NULL
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = e.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'sim' AND m.name = e.sim AND m.retired_at IS NULL)
GROUP BY ALL ORDER BY e.variant, e.sim, series;
