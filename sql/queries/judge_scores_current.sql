-- Judge scores of the episodes the catalog holds now, each with the current trust of the program that scored it
-- (a score from a program that has since been recompiled is not trusted until it is re-scored).
SELECT s.variant, s.sim, s.archetype, s.episode_id, s.rubric, s.criterion, s.judge, s.score, s.failure_mode,
       s.program_hash, p.kappa AS program_kappa,
       coalesce(p.trusted AND p.program_hash = s.program_hash, false) AS trusted
FROM judge_scores s
JOIN current_episodes e ON e.episode_id = s.episode_id AND e.variant = s.variant AND e.sim = s.sim
LEFT JOIN judge_programs p ON p.rubric = s.rubric AND p.judge = s.judge AND p.backend = 'dspy' AND p.program = 'compiled'
ORDER BY s.variant, s.archetype, s.rubric, s.criterion, s.episode_id, s.judge;
