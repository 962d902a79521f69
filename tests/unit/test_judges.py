"""Judges without a judge server: trust rule, agreement measuring with a stand-in program, the call cache keys, the
evidence budget, the report's score summary, and the DSPy adapter's structured-output request."""

import json

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.labels import Label, load_labels
from beyond_vibes_assets.catalog.models_config import EVIDENCE_CHARS
from beyond_vibes_assets.catalog.rubrics import load_rubric
from beyond_vibes_assets.judging import calls as call_cache
from beyond_vibes_assets.judging.calibration import examples, measure
from beyond_vibes_assets.judging.compiling import trust
from beyond_vibes_assets.judging.labels import evidence_mismatches, refuse_evidence_mismatch
from beyond_vibes_assets.judging.program import VERDICT_SCHEMA, adapter, failure_mode_of, judge_alias
from beyond_vibes_assets.judging.view import judge_view, shares
from beyond_vibes_assets.report.judge_trust import render_judges, summarize_scores
from beyond_vibes_assets.settings import REPO_ROOT


def test_trust_needs_enough_labels_coverage_and_kappa_at_the_low_end_of_its_interval():
    good = {"coverage": 1.0, "kappa": 0.81, "kappa_low": 0.55, "kappa_high": 0.95}
    assert trust(good, 30, 0.4, 0.8) == (True, "kappa 0.81 (95% 0.55-0.95) >= 0.40 at its low end")
    assert trust(good, 4, 0.4, 0.8)[0] is False and "4 held-out" in trust(good, 4, 0.4, 0.8)[1]
    assert trust({**good, "coverage": 0.5}, 30, 0.4, 0.8)[1] == "scored 50% of held-out labels (need 80%)"
    assert trust({"coverage": 1.0, "kappa": None}, 27, 0.4, 0.8)[0] is False
    assert trust({"coverage": 1.0, "kappa": float("nan")}, 27, 0.4, 0.8)[0] is False
    assert trust(good, 19, 0.4, 0.8)[1] == "only 19 held-out label(s) (need 20)"
    # issue 21, finding 7: kappa 0.64 on 7 labels spans 0.00-0.86; "kappa >= 0.4" decided nothing
    few = {"coverage": 1.0, "kappa": 0.64, "kappa_low": 0.0, "kappa_high": 0.86}
    assert trust(few, 27, 0.4, 0.8)[0] is False and "low end is below" in trust(few, 27, 0.4, 0.8)[1]


def test_kappa_interval_is_wide_on_few_labels_and_narrow_on_many():
    from beyond_vibes_assets.scoring.agreement import agreement

    human, judge = [1, 2, 3, 4, 5, 3, 2], [1, 3, 3, 4, 4, 2, 2]
    few = agreement(human, judge)
    many = agreement(human * 6, judge * 6)
    assert few["kappa_low"] < few["kappa"] < few["kappa_high"]
    assert (many["kappa_high"] - many["kappa_low"]) < (few["kappa_high"] - few["kappa_low"]) / 2


def test_labels_split_by_sample_all_criteria_of_an_artefact_on_one_side():
    from beyond_vibes_assets.catalog.rubrics import scan_rubrics

    rubrics, _ = scan_rubrics(REPO_ROOT / "judges")
    for name, rubric in rubrics.items():
        labels = load_labels(REPO_ROOT / "judges" / "labels" / f"{name}.jsonl", rubric)
        sides: dict[str, set[str]] = {}
        for label in labels:
            sides.setdefault(label.artefact, set()).add(label.split)
        assert all(len(s) == 1 for s in sides.values()), name


class ScriptedProgram:
    """Stands in for a compiled DSPy program: answers from a script keyed by the evidence text."""

    def __init__(self, answers):
        self.answers = answers

    def __call__(self, criterion, evidence):
        answer = self.answers[evidence]
        if isinstance(answer, Exception):
            raise answer
        return type("Prediction", (), {"score": answer, "rationale": "scripted"})()


def _examples(n: int):
    import dspy

    return [dspy.Example(criterion="c", evidence=f"e{i}", score=s, label_id=f"l{i}").with_inputs("criterion", "evidence")
            for i, s in zip(range(n), [1, 2, 3, 4, 5, 3])]


def test_measure_scores_agreement_over_answered_labels_and_counts_failures_apart():
    held_out = _examples(6)
    answers = {"e0": 1, "e1": 2, "e2": 4, "e3": 4, "e4": "five", "e5": TimeoutError("read timed out")}
    result = measure(ScriptedProgram(answers), lm=None, held_out=held_out)
    assert result.n == 6 and result.scored == 4 and result.failures == {"unparseable": 1, "timeout": 1}
    # hand-computed over the 4 answered: human 1,2,3,4 vs judge 1,2,4,4
    assert result.figures["within_1"] == 1.0 and result.figures["bias"] == pytest.approx(0.25)
    # sum of w*observed = 1/16 (one 3-vs-4); sum of w*expected from the marginals = 48/16 / 4 = 0.75
    assert result.figures["kappa"] == pytest.approx(1 - (1 / 16) / 0.75, abs=1e-9)
    assert [v["failure_mode"] for v in result.verdicts] == [None, None, None, None, "unparseable", "timeout"]
    out_of_range = measure(ScriptedProgram({"e0": 9}), lm=None, held_out=held_out[:1])
    assert out_of_range.failures == {"out_of_range": 1} and out_of_range.to_dict()["coverage"] == 0.0


def test_failure_modes_of_judge_exceptions():
    assert failure_mode_of(TimeoutError("x")) == "timeout"
    assert failure_mode_of(ConnectionError("refused")) == "endpoint_failure"
    assert failure_mode_of(ValueError("Adapter JSONAdapter failed to parse the LM response")) == "unparseable"
    # DSPy's own LM errors (an HTTP 503 from an API judge arrived as LMServerError and was stored as "unparseable")
    from dspy.utils.exceptions import LMRateLimitError, LMServerError, LMTransportError

    assert failure_mode_of(LMServerError("scripted failure")) == "endpoint_failure"
    assert failure_mode_of(LMRateLimitError("slow down")) == "endpoint_failure"
    assert failure_mode_of(LMTransportError("reset")) == "endpoint_failure"


def test_call_cache_keys_change_with_program_judge_content_and_criterion(home):
    base = ("p1", "judge@v@sha@build", call_cache.content_hash({"evidence": "x"}), "specificity")
    key = call_cache.call_key(*base)
    for i, other in enumerate(["p2", "judge@v@sha2@build", call_cache.content_hash({"evidence": "y"}), "security"]):
        changed = list(base)
        changed[i] = other
        assert call_cache.call_key(*changed) != key
    assert call_cache.cached(key) is None
    call_cache.store(key, {"score": 3, "rationale": "ok", "failure_mode": None})
    assert call_cache.cached(key)["score"] == 3
    retried = call_cache.call_key("p1", "j", "c", "timeout-case")
    call_cache.store(retried, {"score": None, "rationale": "timed out", "failure_mode": "timeout"})
    assert call_cache.cached(retried) is None  # infrastructure failures are asked again next run
    # DSPy's cache ignores the base URL: the alias carries the model file hash and build instead
    assert judge_alias("j", "m~Q4_1~cpu", "ab" * 32, "b1") == f"j@m~Q4_1~cpu@{'ab' * 8}@b1"


def test_evidence_budget_bounds_the_view_and_keeps_every_field():
    sample = {"task": "t" * 5000, "final_answer": "a" * 9000, "diff": "", "transcript": "s" * 9000}
    full = judge_view(sample, ["task", "final_answer", "transcript"])
    small = judge_view(sample, ["task", "final_answer", "transcript"], budget=1200)
    assert len(small) < 1700 < len(full)
    assert "## Task" in small and "## Final answer" in small and "## Transcript excerpt" in small


def test_a_budget_never_cuts_a_view_that_fits_and_short_fields_keep_everything():
    """Before: the budget scaled every field by its nominal limit, so a 300-character answer beside an empty diff
    was cut at 1,200 characters although the whole view was 500: the judge saw less than the labeller."""
    sample = {"task": "t" * 150, "final_answer": "a" * 300, "diff": "", "transcript": ""}
    sees = ["task", "final_answer", "diff"]
    assert judge_view(sample, sees, budget=1200) == judge_view(sample, sees)
    assert shares({"task": 100, "final_answer": 5000, "diff": 5000}, 1200) == {"task": 100, "final_answer": 550, "diff": 550}
    long = {"task": "t" * 100, "final_answer": "a" * 5000, "diff": "d" * 5000, "transcript": ""}
    view = judge_view(long, sees, budget=1200)
    assert "t" * 100 in view and len(view) < 1400


def test_a_judge_that_sees_less_than_the_labeller_is_refused_naming_the_labels():
    rubric = load_rubric(REPO_ROOT / "judges" / "design.yaml")
    path = REPO_ROOT / "judges" / "labels" / "design.jsonl"
    labels = load_labels(path, rubric)
    assert evidence_mismatches(rubric, labels, EVIDENCE_CHARS) == []  # the default judge sees every shipped view whole
    cut = evidence_mismatches(rubric, labels, 1200)
    assert cut and set(cut) < {label.id for label in labels}
    with pytest.raises(ConfigError) as err:
        refuse_evidence_mismatch(path, rubric, labels, 1200, "tiny")
    text = str(err.value)
    assert "design.jsonl" in text and cut[0] in text and "evidence_chars" in text and "--evidence-chars 1200" in text
    # a label made at the judge's own budget (as `judges label` records it) is what the judge sees: accepted
    long = labels[[label.id for label in labels].index(cut[0])]
    relabelled = Label(**{**long.model_dump(), "evidence_chars": 1200})
    assert evidence_mismatches(rubric, [relabelled], 1200) == []
    assert evidence_mismatches(rubric, [relabelled], EVIDENCE_CHARS) == [relabelled.id]  # and a judge shown more, too


def test_label_examples_carry_the_criterion_scale_and_bounded_evidence():
    rubric = load_rubric(REPO_ROOT / "judges" / "design.yaml")
    labels = load_labels(REPO_ROOT / "judges" / "labels" / "design.jsonl", rubric)
    exs = examples(rubric, labels, budget=800)
    assert len(exs) == len(labels)
    assert all("1: " in e.criterion and "5: " in e.criterion for e in exs)
    assert max(len(e.evidence) for e in exs) < 1400
    assert {e.score for e in exs} == {1, 2, 3, 4, 5}


def test_adapter_asks_for_the_verdict_schema():
    from beyond_vibes_assets.judging.program import signature

    kwargs: dict = {}
    adapter()._prepare_response_format(None, kwargs, signature())
    schema = kwargs["response_format"]["json_schema"]["schema"]
    assert schema == VERDICT_SCHEMA and schema["properties"]["score"]["enum"] == [1, 2, 3, 4, 5]
    json.dumps(kwargs)  # what goes over the wire is plain JSON


def _score(variant, episode, judge, score, trusted=True, kappa=0.5, criterion="specificity"):
    return {"variant": variant, "archetype": "planning", "rubric": "design", "criterion": criterion,
            "episode_id": episode, "judge": judge, "score": score, "trusted": trusted, "program_kappa": kappa}


def test_summary_takes_the_median_over_judges_then_the_mean_with_an_interval():
    rows = [_score("v", "e1", "a", 4), _score("v", "e1", "b", 2), _score("v", "e1", "c", 3),
            _score("v", "e2", "a", 5), _score("v", "e2", "b", 5), _score("v", "e2", "c", None, trusted=False, kappa=0.1)]
    (s,) = summarize_scores(rows)
    assert s["mean"] == pytest.approx((3 + 5) / 2) and s["scored"] == 2 and s["episodes"] == 2
    assert s["low"] <= s["mean"] <= s["high"] and s["failed"] == 1 and s["judges"] == 3
    assert s["spread"] == pytest.approx(4.5 - 3.0) and s["trusted"] is False and s["kappa"] == 0.1


def test_report_marks_untrusted_judges():
    programs = [{"rubric": "design", "judge": "smol", "backend": "dspy", "program": "compiled", "n_held_out": 7,
                 "scored": 7, "kappa": 0.05, "spearman": 0.1, "within_1": 0.4, "bias": 1.2, "trusted": False,
                 "trust_reason": "kappa 0.05 < 0.40"}]
    text = "\n".join(render_judges(programs, [_score("v", "e1", "smol", 4, trusted=False)]))
    assert "## Judges" in text and "**no** (kappa 0.05 < 0.40)" in text
    assert "design / specificity ⚠" in text
    # the default demo measures the compiled program only: the report says which comparisons are missing and how
    assert "Not measured for design / smol: the MLflow make_judge and the uncompiled baseline" in text
    full = programs + [{**programs[0], "backend": b, "program": p} for b, p in (("dspy", "baseline"),
                                                                                ("mlflow", "make_judge"))]
    assert "Not measured" not in "\n".join(render_judges(full, []))


def test_every_optimizer_compiles_against_a_scripted_judge(home):
    """bootstrap, simba and mipro each compile (mipro failed before: optuna was missing, and the judge adapter forced
    the verdict schema on MIPROv2's own instruction proposals). The judge is a scripted endpoint (no model here)."""
    import re

    import dspy

    from beyond_vibes_assets.judging.calibration import compile_program
    from beyond_vibes_assets.judging.program import judge_lm
    from tests.scripted import ScriptedEndpoint

    def script(body):
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
        fields = list(schema.get("properties") or {})
        if "score" in fields:  # a verdict: right when the evidence shows the note
            evidence = json.dumps(body["messages"][-1:])
            return json.dumps({"rationale": "by the evidence", "score": 5 if re.search(r"Wrote NOTE", evidence) else 1})
        return json.dumps({f: "Judge strictly by the evidence." for f in fields or ["proposed_instruction"]})

    train = [dspy.Example(criterion="Did it write the note? 1: no, 5: yes", score=5 if i % 2 else 1, rationale="r",
                          evidence="Wrote NOTE.md" if i % 2 else "nothing").with_inputs("criterion", "evidence")
             for i in range(12)]
    endpoint = ScriptedEndpoint(script)
    with endpoint.running():
        lm = judge_lm(endpoint.url, "j@scripted@api@api", cache=False)
        for optimizer in ("bootstrap", "simba", "mipro"):
            before = endpoint.count()
            program = compile_program(lm, train, optimizer, 2)
            assert isinstance(program, dspy.Predict) and endpoint.count() > before, optimizer


def test_a_stop_during_judge_calls_sends_none_of_the_queued_ones(monkeypatch):
    """answer_all on the shared cancelling pool: a stop signal raised in one call ends the batch after the calls in
    flight, none of the 39 queued ones is sent (a guard: pool.map cancelled them before too, a plain submit loop
    under `with ThreadPoolExecutor()` would not)."""
    import time

    from beyond_vibes_assets.judging import episodes
    from beyond_vibes_assets.judging.program import Verdict
    from beyond_vibes_assets.runner.stop_signals import StopRequested

    sent = []

    def fake_judge_once(program, lm, criterion, evidence):
        sent.append(evidence)
        time.sleep(0.05)
        if evidence == "stop":
            raise StopRequested(2)
        return Verdict(4, "fine", None, 0.05)

    monkeypatch.setattr(episodes, "judge_once", fake_judge_once)
    jobs = [(None, "criterion", "stop")] + [(None, "criterion", f"e{i}") for i in range(40)]
    with pytest.raises(StopRequested):
        episodes.answer_all(jobs, lm=None, width=2)
    assert len(sent) <= 4, sent  # the stop, the call beside it and at most the next pair; not all 41
