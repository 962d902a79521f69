-- Whose failure each failure mode is: the model's count as wrong answers (its code never ends, it is too slow on a
-- machine nothing else loaded, it overflows its context, its reply is malformed); the machine's are excluded from
-- every rate, retried on the next run and shown (dead or erroring endpoint, rate limit, sandbox that could not start,
-- verifier bug, a judge that failed, a timeout while other processes took the machine). The one definition: scoring/outcomes.py reads
-- these rows; a mode not listed is the machine's.
CREATE OR REPLACE VIEW failure_owners AS
SELECT * FROM (VALUES
    ('execution_timeout', 'model'),
    ('timeout', 'model'),
    ('context_overflow', 'model'),
    ('malformed_response', 'model'),
    ('repeated_format_errors', 'model'),
    ('unparseable', 'model'),
    ('endpoint_unreachable', 'machine'),
    ('server_error', 'machine'),
    ('http_error', 'machine'),
    ('rate_limited', 'machine'),
    ('endpoint_failure', 'machine'),
    ('sandbox_error', 'machine'),
    ('verifier_error', 'machine'),
    ('judge_failure', 'machine'),
    ('timeout_contended', 'machine')
) AS t(failure_mode, owner);
