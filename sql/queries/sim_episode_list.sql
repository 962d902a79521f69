-- Every canonical episode with its outcome, for the report's episode index (ids open in `beyond-vibes sims show`).
SELECT variant, sim, archetype, repeat_index, episode_id, success, criteria_passed, criteria_total, stop_reason, steps,
       trace_id
FROM current_episodes ORDER BY variant, sim, repeat_index;
