-- Packs with model-graded items (verifier llm_judge) and the trust of their judge, from the verdicts themselves:
-- trusted only when every scored verdict of the pack says so (agreement with the pack's labels measured and met).
SELECT task,
       any_value(json_extract_string(verdict_detail, '$.judge')) AS judge,
       coalesce(bool_and(json_extract(verdict_detail, '$.trusted')::BOOLEAN), false) AS trusted,
       any_value(json_extract_string(verdict_detail, '$.trust_reason')) AS trust_reason,
       count(*)::BIGINT AS n,
       count(*) FILTER (WHERE failure_mode = 'judge_failure')::BIGINT AS n_judge_failed
FROM current_samples
WHERE verifier = 'llm_judge'
GROUP BY task
ORDER BY task;
