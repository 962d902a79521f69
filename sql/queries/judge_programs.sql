-- Every judge program's agreement with the held-out human labels: compiled, uncompiled baseline, MLflow's judge.
SELECT rubric, judge, backend, program, program_hash, n_train, n_held_out, scored, coverage, kappa, kappa_low,
       kappa_high, spearman, within_1,
       bias, failures, min_kappa, trusted, trust_reason, optimizer, compiled_at
FROM judge_programs
ORDER BY rubric, judge, backend, program DESC;
