-- Model-graded pack items (verifier llm_judge): each current verdict's detail (judge, trust) and failure mode; the
-- report aggregates them per pack (report/leaderboard.py judged_packs), so no dialect's JSON functions are needed.
SELECT task, verdict_detail, failure_mode
FROM current_samples
WHERE verifier = 'llm_judge'
ORDER BY task, sample_id;
