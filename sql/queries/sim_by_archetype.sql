-- Simulation success per variant and archetype (canonical episodes): the report's per-archetype table.
SELECT variant, archetype, count(*)::INTEGER AS n, count(*) FILTER (WHERE success)::INTEGER AS n_success
FROM current_episodes GROUP BY ALL ORDER BY variant, archetype;
