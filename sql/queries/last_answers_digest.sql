-- The answers digest of a scored partition's newest history point: a re-score of the same answers adds no point.
SELECT answers_digest FROM score_history WHERE kind = ? AND variant = ? AND task = ?
ORDER BY recorded_at DESC LIMIT 1;
