-- Results of what left the catalog (a variant, a pack, a sim) and answers to items edited out of a current pack:
-- kept for history, never counted in a headline. One row per (what left, variant, task).
WITH gone AS (SELECT kind, name, retired_at FROM catalog_members WHERE retired_at IS NOT NULL)
SELECT g.kind, g.name, g.retired_at, s.variant, s.task, 'pack' AS source,
       count(*)::BIGINT AS n, count(*) FILTER (WHERE s.passed AND s.failure_mode IS NULL)::BIGINT AS n_passed
FROM samples s JOIN gone g ON (g.kind = 'variant' AND g.name = s.variant) OR (g.kind = 'pack' AND g.name = s.task)
WHERE s.canonical GROUP BY ALL
UNION ALL
SELECT g.kind, g.name, g.retired_at, e.variant, e.sim, 'sim',
       count(*)::BIGINT, count(*) FILTER (WHERE e.success)::BIGINT
FROM sim_episodes e JOIN gone g ON (g.kind = 'variant' AND g.name = e.variant) OR (g.kind = 'sim' AND g.name = e.sim)
WHERE e.canonical GROUP BY ALL
UNION ALL
SELECT 'item', s.task, CAST(NULL AS TIMESTAMP), s.variant, s.task, 'pack', count(*)::BIGINT,
       count(*) FILTER (WHERE s.passed AND s.failure_mode IS NULL)::BIGINT
FROM samples s
WHERE s.canonical
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'pack' AND m.name = s.task AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM catalog_items i WHERE i.task = s.task AND i.sample_id = s.sample_id)
GROUP BY ALL
ORDER BY 3 DESC NULLS LAST, 1, 2, 4, 5;
