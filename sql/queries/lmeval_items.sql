-- Per-document lm-eval results of current variants and tasks, for paired quant-vs-reference comparisons.
SELECT s.variant, 'lmeval:' || s.lm_task AS task, s.doc_id::VARCHAR AS sample_id, s.passed, s.failure_mode
FROM lmeval_samples s
WHERE EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'variant' AND m.name = s.variant AND m.retired_at IS NULL)
  AND EXISTS (SELECT 1 FROM catalog_members m WHERE m.kind = 'lmeval' AND m.name = s.lm_task AND m.retired_at IS NULL);
