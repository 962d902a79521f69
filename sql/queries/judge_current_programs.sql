-- The compiled DSPy program of each (rubric, judge), as the latest judge_program run recorded it.
SELECT rubric, judge, program_hash, program_key, rubric_fingerprint, kappa, trusted
FROM judge_programs
WHERE backend = 'dspy' AND program = 'compiled';
