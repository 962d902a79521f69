import pytest

from beyond_vibes_assets.report.leaderboard import render
from beyond_vibes_assets.stats import pareto_front, wilson


def test_wilson_interval():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and 0.25 < hi < 0.35
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.490, abs=0.005) and hi == pytest.approx(0.943, abs=0.005)
    assert wilson(0, 0) == (0.0, 1.0)


def test_pareto_front():
    pts = [("fast-dumb", 0.2, 300.0), ("slow-smart", 0.9, 10.0), ("dominated", 0.2, 100.0), ("mid", 0.5, 200.0), ("nospeed", 1.0, None)]
    assert pareto_front(pts) == {"fast-dumb", "slow-smart", "mid"}


def test_render_lists_every_variant_with_counts():
    lb = [{"variant": "m~Q8_0~cpu", "model": "m", "quant": "Q8_0", "pass_rate": 0.5, "ci_low": 0.3, "ci_high": 0.7,
           "ranking": 1, "complete": True, "packs": 1, "packs_total": 1, "answered_rate": 0.5, "n_model_failed": 0,
           "n_passed": 5, "n_scored": 10, "n_answered": 10, "n": 11, "n_failed_calls": 1, "median_ttft_s": 0.1,
           "median_decode_tps": 100.0, "median_server_predicted_tps": 101.0, "probe_prompt_tps": 300.0, "probe_gen_tps": 110.0,
           "probe_client_decode_tps": 109.0, "bench_pp_tps": 350.0, "bench_tg_tps": 120.0, "perplexity": 23.1, "peak_rss_bytes": 2e8}]
    matrix = [{"variant": "m~Q8_0~cpu", "task": "reasonmath", "n": 11, "n_scored": 10, "n_answered": 10, "n_passed": 5,
               "n_failed_calls": 1, "pass_rate": 0.5}]
    weights = [{"weights_key": "m~Q8_0", "model": "m", "quant": "Q8_0", "origin": "derived", "derived_from": "Q4_1",
                "sha256": "ab" * 32, "size_bytes": 1e8, "file_type": "Q8_0"}]
    difficulty = [{"variant": "m~Q8_0~cpu", "difficulty": "easy", "n": 4, "n_passed": 4},
                  {"variant": "m~Q8_0~cpu", "difficulty": "hard", "n": 6, "n_passed": 1}]
    data = {"leaderboard": lb, "matrix": matrix, "weights": weights, "difficulty": difficulty,
            "failures": [{"variant": "m~Q8_0~cpu", "failure_mode": "timeout", "n": 1}], "manifest": {"harness_commit": "abc"},
            "slowed": {("m~Q8_0~cpu", "reasonmath"): 0.2}, "bounded": {"m~Q8_0~cpu": "Q4_1"},
            "labels": {"m~Q8_0~cpu": "m~Q8_0~cpu (≤ Q4_1 source)"}}
    text = render(data)
    assert "## By difficulty" in text and "| `m~Q8_0~cpu (≤ Q4_1 source)` | 4/4 | 1/6 |" in text
    assert "5/10" in text and "derived from Q4_1" in text and "timeout" in text and "★" in text
    assert "⚠ slowed during reasonmath" in text and "quality bounded by its Q4_1 source" in text
    assert "| 5/10 ⚠ |" in text
    assert "Ranked over the same 1 pack(s) for every ranked variant: `reasonmath`" in text


def test_an_incomplete_variant_is_shown_with_its_coverage_and_not_ranked():
    """Like with like: one easy pack at 10/10 does not outrank three packs at 62.7% (issue 21's constructed case)."""
    base = {"model": "m", "quant": "Q", "ci_low": 0.5, "ci_high": 0.9, "n_model_failed": 0, "n_failed_calls": 0,
            "median_ttft_s": 0.1, "median_decode_tps": 10.0, "median_server_predicted_tps": None}
    lb = [{**base, "variant": "three~Q~cpu", "pass_rate": 0.627, "answered_rate": 0.627, "ranking": 1, "complete": True,
           "packs": 3, "packs_total": 3, "n_passed": 32, "n_scored": 51, "n_answered": 51, "n": 51},
          {**base, "variant": "easy~Q~cpu", "pass_rate": 1.0, "answered_rate": 1.0, "ranking": None, "complete": False,
           "packs": 1, "packs_total": 3, "n_passed": 10, "n_scored": 10, "n_answered": 10, "n": 10}]
    matrix = [{"variant": "three~Q~cpu", "task": t, "n_scored": 17, "n_passed": 11} for t in ("a", "b", "c")]
    matrix.append({"variant": "easy~Q~cpu", "task": "a", "n_scored": 10, "n_passed": 10})
    text = render({"leaderboard": lb, "matrix": matrix, "weights": [], "manifest": {}})
    row = next(line for line in text.splitlines() if "`easy~Q~cpu`" in line)
    assert row.startswith("| incomplete |") and "| 1/3 |" in row and "★" not in row
    assert next(line for line in text.splitlines() if "`three~Q~cpu`" in line).startswith("| 1 |")
    assert "1 variant(s) lack some of them" in text


def test_html_report_renders_tables_and_escapes():
    from beyond_vibes_assets.report.html import markdown_to_html

    page = markdown_to_html("# Title\n\n| a | b |\n|---|---|\n| `x<y` | 2 |\n\ntext & more <script>x</script>")
    assert "<h1>Title</h1>" in page and "<th>a</th>" in page and "<code>x&lt;y</code>" in page
    assert "---" not in page and "text &amp; more" in page and "<script>" not in page


def test_sims_section_per_archetype_with_intervals_and_health():
    from beyond_vibes_assets.report.leaderboard import render_sims

    by = [{"variant": "v", "archetype": "planning", "n": 2, "n_success": 1},
          {"variant": "v", "archetype": "research", "n": 2, "n_success": 0}]
    health = [{"variant": "v", "episodes": 4, "successes": 1, "criteria_passed": 5, "criteria_total": 9, "median_steps": 6.0,
               "tokens": 1234, "wall_s": 10.0, "model_s": 9.0, "tools_s": 0.8, "harness_s": 0.2,
               "tool_hallucination_rate": 0.0, "schema_error_rate": 0.25, "looping": 1, "outside_allowed": 0,
               "adopted_false_premise": 1, "false_premise_episodes": 1, "stop_reasons": "finished, max_steps",
               "without_isolation": False}]
    episodes = [{"variant": "v", "sim": "s", "archetype": "planning", "repeat_index": 0, "episode_id": "abc",
                 "success": True, "criteria_passed": 3, "criteria_total": 3, "stop_reason": "finished", "steps": 5,
                 "trace_id": None}]
    text = "\n".join(render_sims(by, health, episodes))
    assert "## Simulations" in text and "1/2 (9–91%)" in text and "0/2 (0–66%)" in text
    assert "| `v` | 4 | 1 | 5/9 |" in text and "`abc`" in text and "1/1" in text
    assert render_sims([], [], []) == []


def test_a_zero_rate_is_drawn_and_history_is_small_multiples():
    """A 0% bar has no area: it is drawn as a line with '0%' beside it, so 'measured, 0%' never reads as 'not
    measured'; history is one panel per task with a single legend (one axis with 40 series was unreadable)."""
    import re
    from datetime import datetime, timedelta

    from beyond_vibes_assets.report import plots

    zero = plots.archetypes([{"variant": "a~q~e", "archetype": "planning", "n_success": 0, "n": 3}], {})
    some = plots.archetypes([{"variant": "a~q~e", "archetype": "planning", "n_success": 1, "n": 3}], {})
    assert ">0%</text>" in zero and ">0%</text>" not in some
    t0 = datetime(2026, 1, 1)
    rows = [{"kind": "pack", "variant": v, "task": t, "recorded_at": t0 + timedelta(hours=i), "rate": 0.5}
            for v in ("a~q~e", "b~q~e") for t in ("math", "code", "shell", "echo") for i in range(3)]
    history = plots.history(rows, set(), {})
    assert len(re.findall(r'<g id="axes_\d+">', history)) == 4  # one panel per task
    assert history.count(">a~q~e</text>") == 1  # one legend for all of them
    single = plots.history([{"kind": "pack", "variant": "a~q~e", "task": "math", "recorded_at": t0, "rate": 0.5}],
                           set(), {})
    ticks = re.findall(r">([\d.]+)</text>", single)
    assert "1" in ticks and not [t for t in ticks if "." in t]  # measurement 1, not an axis of 0.96-1.04
