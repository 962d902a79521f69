-- The foreign CPU share measured when a pack's stored answers were generated (an all-cached re-run carries it).
SELECT foreign_cpu_share FROM score_history WHERE kind = 'pack' AND variant = ? AND task = ?
ORDER BY recorded_at DESC LIMIT 1;
