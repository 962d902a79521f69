"""Paired comparisons, the headline figure, the sigma rule and the baseline gate, against hand-computed values."""

import random
from datetime import datetime, timedelta

import pytest

from beyond_vibes_assets.history import gate_regressions, latest_regressions, pack_history_row
from beyond_vibes_assets.stats import (
    compare_paired,
    mcnemar_exact,
    paired_bootstrap,
    pooled_rate,
    sigma_regression,
)
from resources.warehouse import WarehouseResource


def test_mcnemar_exact_matches_hand_computed_binomial_tails():
    # b=1, c=6: 2 * (C(7,0) + C(7,1)) / 2^7 = 2 * 8/128
    assert mcnemar_exact(1, 6) == pytest.approx(0.125)
    assert mcnemar_exact(6, 1) == pytest.approx(0.125)
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    # b=2, c=8: 2 * (1 + 10 + 45) / 1024
    assert mcnemar_exact(2, 8) == pytest.approx(112 / 1024)
    assert mcnemar_exact(3, 3) == 1.0 and mcnemar_exact(0, 0) == 1.0


def test_paired_bootstrap_against_hand_computed_distributions():
    # every item flips the same way: every resample has mean 1
    assert paired_bootstrap([(False, True)] * 5) == (1.0, 1.0, 1.0)
    assert paired_bootstrap([(True, True), (False, False)]) == (0.0, 0.0, 0.0)
    # two items with differences 1 and 0: resample means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4,
    # so the 2.5th percentile is 0 and the 97.5th is 1; the point estimate is 0.5
    assert paired_bootstrap([(False, True), (True, True)]) == (0.5, 0.0, 1.0)
    # fixed seed: the same interval twice
    pairs = [(random.Random(i).random() < 0.5, random.Random(-i).random() < 0.6) for i in range(40)]
    assert paired_bootstrap(pairs) == paired_bootstrap(pairs)
    stats = compare_paired(pairs)
    assert stats["diff_low"] <= stats["diff"] <= stats["diff_high"]


def test_compare_paired_says_when_the_interval_covers_zero():
    same = compare_paired([(True, True)] * 10 + [(True, False), (False, True)])
    assert same["verdict"] == "no detectable difference" and same["p_mcnemar"] == 1.0
    better = compare_paired([(False, True)] * 12 + [(True, True)] * 8)
    assert better["verdict"] == "B better" and better["p_mcnemar"] == pytest.approx(2 / 2**12)


def test_headline_never_falls_outside_its_interval_random_pack_sizes():
    """Property test over random packs, on the formula and on the real leaderboard view."""
    rng = random.Random(7)
    for _ in range(500):
        packs = [(p, n) for n in (rng.randint(1, 60) for _ in range(rng.randint(1, 8))) for p in [rng.randint(0, n)]]
        rate, lo, hi = pooled_rate(packs)
        assert 0.0 <= lo <= rate <= hi <= 1.0


def test_the_leaderboard_view_uses_the_same_headline(home):
    rng = random.Random(3)
    wh = WarehouseResource()
    packs, members, items = [], [{"kind": "variant", "name": "v"}], []
    for t in range(5):
        n = rng.randint(1, 30)
        passed = rng.randint(0, n)
        packs.append((passed, n))
        members.append({"kind": "pack", "name": f"t{t}"})
        rows = [{"variant": "v", "task": f"t{t}", "sample_id": str(i), "passed": i < passed, "canonical": True}
                for i in range(n)]
        items += [{"task": f"t{t}", "sample_id": str(i)} for i in range(n)]
        wh.replace_partition("samples", {"variant": "v", "task": f"t{t}"}, rows)
    wh.replace_partitions([("catalog_members", {}, members), ("catalog_items", {}, items)])
    (lb,) = wh.query("SELECT pass_rate, ci_low, ci_high FROM leaderboard")
    assert (lb["pass_rate"], lb["ci_low"], lb["ci_high"]) == pytest.approx(pooled_rate(packs))


def test_sigma_rule_needs_three_points_and_floors_sigma():
    assert sigma_regression([0.8, 0.8], 0.2, n=20) is None  # too little history
    # identical temperature-0 history (sd 0): the floor is the binomial standard error at n=20
    assert sigma_regression([0.8, 0.8, 0.8], 0.75, n=20) is None  # one item fewer is noise
    found = sigma_regression([0.8, 0.8, 0.8], 0.4, n=20)
    p = (0.8 * 20 + 2) / 24
    assert found["sigma"] == pytest.approx((p * (1 - p) / 24) ** 0.5) and found["threshold"] == pytest.approx(0.8 - 2 * found["sigma"])
    assert sigma_regression([0.5, 0.7, 0.6, 0.8], 0.9, n=10) is None  # better is never a regression


def history(rates, n=20, variant="v", task="t"):
    t0 = datetime(2026, 1, 1)
    return [{"kind": "pack", "variant": variant, "task": task, "rate": r, "n_answered": n, "recorded_at": t0 + timedelta(hours=i)}
            for i, r in enumerate(rates)]


def test_latest_regressions_judges_only_the_newest_point():
    assert latest_regressions(history([0.8, 0.8, 0.8, 0.8])) == []
    (found,) = latest_regressions(history([0.8, 0.8, 0.8, 0.3]))
    assert found["variant"] == "v" and found["rule"] == "sigma" and found["points"] == 3
    assert latest_regressions(history([0.8, 0.8, 0.8, 0.3, 0.8])) == []  # recovered


def test_gate_rules():
    base = [{"kind": "pack", "variant": "v", "task": "t", "rate": 0.8, "n_passed": 160, "n_answered": 200,
             "median_ttft_s": 0.10, "median_latency_s": 1.0, "median_decode_tps": 50.0, "fingerprint": "f1"},
            {"kind": "pack", "variant": "v", "task": "gone", "rate": 0.5, "n_passed": 5, "n_answered": 10}]
    same = [{**base[0]}, {**base[1]}]
    assert gate_regressions(base, same) == []
    worse = [{**base[0], "rate": 0.65, "n_passed": 130, "median_ttft_s": 0.13, "median_decode_tps": 30.0}]
    rules = {r["rule"] for r in gate_regressions(base, worse, max_drop=10, max_latency_rise=20)}
    assert rules == {"rate", "median_ttft_s", "median_decode_tps", "missing"}
    assert {r["rule"] for r in gate_regressions(base, worse, max_drop=20, max_latency_rise=70)} == {"missing"}


def test_gate_drop_rule_counts_n_and_is_exact_at_its_boundary():
    """Issue 21, finding 6: a flat 10-point rule flagged 0.8 -> 0.7 but not 0.7 -> 0.6 (a float edge) and ignored n."""
    def pair(was, now, n):
        return ([{"kind": "pack", "variant": "v", "task": "t", "rate": was / n, "n_passed": was, "n_answered": n}],
                [{"kind": "pack", "variant": "v", "task": "t", "rate": now / n, "n_passed": now, "n_answered": n}])

    for was, now in ((800, 700), (700, 600)):  # exactly 10 points: neither is over a 10-point limit
        assert gate_regressions(*pair(was, now, 1000), max_drop=10) == []
        assert [r["rule"] for r in gate_regressions(*pair(was, now, 1000), max_drop=9.9)] == ["rate"]
    assert gate_regressions(*pair(8, 6, 10), max_drop=10) == []  # 20 points on 10 items: within chance
    assert [r["rule"] for r in gate_regressions(*pair(160, 120, 200), max_drop=10)] == ["rate"]


def test_a_changed_task_is_not_comparable_and_starts_a_new_history_series():
    base = [{"kind": "pack", "variant": "v", "task": "t", "rate": 0.9, "n_passed": 90, "n_answered": 100,
             "fingerprint": "ten-items"}]
    grown = [{**base[0], "rate": 0.5, "n_passed": 100, "n_answered": 200, "fingerprint": "twenty-items"}]
    (found,) = gate_regressions(base, grown)
    assert found["rule"] == "not comparable" and not found["blocking"]
    t0 = datetime(2026, 1, 1)
    old = [{"kind": "pack", "variant": "v", "task": "t", "rate": 0.9, "n": 10, "n_failed_calls": 0,
            "task_fingerprint": "ten", "recorded_at": t0 + timedelta(hours=i)} for i in range(4)]
    new = {**old[0], "rate": 0.45, "n": 20, "task_fingerprint": "twenty", "recorded_at": t0 + timedelta(hours=9)}
    assert latest_regressions([*old, new]) == []  # the grown pack is a new series: nothing to compare with yet
    assert latest_regressions([*old, {**new, "task_fingerprint": "ten", "n": 10}])  # same task: a regression


def test_the_same_answers_scored_again_are_not_a_new_measurement(home):
    from beyond_vibes_assets.history import answers_digest, new_measurement
    from resources.warehouse import WarehouseResource

    wh = WarehouseResource()
    digest = answers_digest(["k1", "k2"])
    assert digest == answers_digest(["k2", "k1"]) and new_measurement(wh, "pack", "v", "t", digest)
    wh.append("score_history", [{"kind": "pack", "variant": "v", "task": "t", "answers_digest": digest,
                                 "recorded_at": datetime(2026, 1, 1)}])
    assert not new_measurement(wh, "pack", "v", "t", digest)
    assert new_measurement(wh, "pack", "v", "t", answers_digest(["k1", "k3"]))


def test_history_row_counts_by_owner_and_flags_a_slowed_run():
    """A timeout on an unloaded machine is the model's (wrong); one during a slowed run was marked
    timeout_contended by the pack family (the machine's: left out)."""
    from beyond_vibes_assets.scoring.outcomes import contended

    rows = [{"variant": "v", "task": "t", "passed": True, "decode_tps": 10.0, "ttft_s": 0.1, "latency_s": 1.0},
            {"variant": "v", "task": "t", "passed": False, "decode_tps": 12.0, "ttft_s": 0.1, "latency_s": 1.0},
            {"variant": "v", "task": "t", "passed": False, "failure_mode": contended("timeout", True)}]
    manifest = {"variant": "v", "task": "t", "run_id": "r", "harness_commit": "c"}
    row = pack_history_row(rows, manifest=manifest, task_fingerprint="f", concurrency=2, probe_decode_tps=100.0, load=0.1,
                           foreign_cpu=0.7)
    assert (row["n"], row["n_answered"], row["n_passed"], row["n_failed_calls"], row["rate"]) == (3, 2, 1, 1, 0.5)
    own = pack_history_row([*rows[:2], {**rows[2], "failure_mode": contended("timeout", False)}], manifest=manifest,
                           task_fingerprint="f", concurrency=2, probe_decode_tps=100.0, load=0.1)
    assert (own["n_model_failed"], own["n_failed_calls"], own["rate"], own["answered_rate"]) == (1, 0, 1 / 3, 0.5)
    assert row["decode_vs_probe"] == pytest.approx(11.0 * 2 / 100) and row["slowed"]
    # a slow decode alone (long prompts, busy slots) is not contention: only the measured foreign load flags
    steady = pack_history_row(rows, manifest=manifest, task_fingerprint="f", concurrency=2, probe_decode_tps=100.0,
                              load=0.1, foreign_cpu=0.02)
    assert not steady["slowed"] and not pack_history_row(rows, manifest=manifest, task_fingerprint="f", concurrency=2,
                                                         probe_decode_tps=100.0, load=0.1)["slowed"]


def test_cpu_meter_sees_other_processes():
    import subprocess
    import sys
    import time

    from beyond_vibes_assets.engine.contention import CpuMeter
    from tests.conftest import busy_loops, kill_all

    own = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # our own child: not foreign
    try:
        meter = CpuMeter()
        time.sleep(1.0)
        quiet = meter.foreign_share()
    finally:
        own.kill()
        own.wait()
    others = busy_loops(2)  # not our children: another job on the machine
    try:
        meter = CpuMeter()
        time.sleep(1.0)
        busy = meter.foreign_share()
    finally:
        kill_all(others)
    assert quiet < 0.25 and busy > 0.6, (quiet, busy)


def test_rows_scored_under_an_older_pack_version_are_marked_stale_in_the_headline(home):
    """Issue 21: answers scored before the pack's items or verifier changed stayed in the headline unmarked."""
    from beyond_vibes_assets.report.leaderboard import render

    wh = WarehouseResource()
    for variant, fingerprint in (("fresh~Q~cpu", "f2"), ("old~Q~cpu", "f1")):
        wh.replace_partition("samples", {"variant": variant, "task": "math"},
                             [{"variant": variant, "task": "math", "sample_id": str(i), "passed": True, "canonical": True,
                               "task_fingerprint": fingerprint} for i in range(3)])
    wh.replace_partitions([("catalog_members", {}, [{"kind": "variant", "name": "fresh~Q~cpu"},
                                                    {"kind": "variant", "name": "old~Q~cpu"},
                                                    {"kind": "pack", "name": "math", "fingerprint": "f2"}]),
                           ("catalog_items", {}, [{"task": "math", "sample_id": str(i)} for i in range(3)])])
    board = {r["variant"]: r for r in wh.query("SELECT variant, n_stale, stale_packs, pass_rate FROM leaderboard")}
    assert (board["old~Q~cpu"]["n_stale"], board["old~Q~cpu"]["stale_packs"]) == (3, 1)
    assert (board["fresh~Q~cpu"]["n_stale"], board["fresh~Q~cpu"]["stale_packs"]) == (0, 0)
    base = {"model": "m", "quant": "Q", "ci_low": 0.5, "ci_high": 1.0, "n_model_failed": 0, "n_failed_calls": 0,
            "median_ttft_s": 0.1, "median_decode_tps": 10.0, "median_server_predicted_tps": None, "pass_rate": 1.0,
            "answered_rate": 1.0, "ranking": 1, "complete": True, "packs": 1, "packs_total": 1, "n_passed": 3,
            "n_scored": 3, "n_answered": 3, "n": 3}
    lb = [{**base, "variant": v, "n_stale": board[v]["n_stale"], "stale_packs": board[v]["stale_packs"]} for v in board]
    matrix = wh.query("SELECT * FROM pack_scores")
    text = render({"leaderboard": lb, "matrix": matrix, "weights": [], "manifest": {}})
    old = [line for line in text.splitlines() if "`old~Q~cpu`" in line]  # leaderboard, per-pack and speed rows
    fresh = [line for line in text.splitlines() if "`fresh~Q~cpu`" in line]
    assert "3 answer(s) in 1 pack(s) scored under an older pack version" in old[0] and "| 3/3 ⟳ |" in old[1]
    assert not any("⟳" in line for line in fresh)
