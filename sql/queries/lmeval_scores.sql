-- lm-evaluation-harness results of current variants and tasks: lm-eval's metric with its stderr.
SELECT s.variant, s.lm_task, s.metric, s.value, s.stderr, s.n, s.num_fewshot, s.task_limit, s.apply_chat_template,
       s.lm_eval_version, s.task_version,
       (SELECT count(*) FROM lmeval_samples x LEFT JOIN failure_owners o ON o.failure_mode = x.failure_mode
        WHERE x.variant = s.variant AND x.lm_task = s.lm_task AND x.failure_mode IS NOT NULL
          AND coalesce(o.owner, 'machine') = 'machine')::BIGINT AS n_failed_calls
FROM lmeval_scores s
WHERE EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'lmeval' AND m.name = s.lm_task AND m.retired_at IS NULL)
ORDER BY s.lm_task, s.value DESC NULLS LAST, s.variant;
