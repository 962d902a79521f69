-- The canonical episodes of one (variant, sim) that the judges score (parameters: variant, sim).
SELECT episode_id, trace_id, repeat_index, archetype
FROM sim_episodes
WHERE variant = ? AND sim = ? AND canonical
ORDER BY repeat_index, episode_id;
