-- Every judge score of one episode (parameter: an episode id or a prefix of it), with the rationale.
SELECT s.episode_id, s.variant, s.sim, s.rubric, s.criterion, s.judge, s.score, s.failure_mode, s.rationale,
       s.program_hash, s.kappa, s.trusted, s.cached
FROM judge_scores s
WHERE s.episode_id LIKE ? || '%'
ORDER BY s.rubric, s.criterion, s.judge;
