"""What the default demo covers, in which stages: the first variant alone (the first report in minutes), then its
engine and quant twins (the engine and quant comparisons), the first sim of each archetype; `--full` everything."""

from types import SimpleNamespace

from beyond_vibes_assets.cli.main import demo_sims, demo_variants

KEYS = ["m~Q4_1~cpu", "m~Q8_0~cpu", "m~Q4_K_M~cpu", "m~Q2_K~cpu", "m~Q4_1~cpu-q8kv", "api~api~openai"]


def test_the_default_demo_scores_the_first_variant_then_its_engine_and_quant_twins():
    assert demo_variants(KEYS, full=False) == [["m~Q4_1~cpu"], ["m~Q4_1~cpu-q8kv", "m~Q2_K~cpu"]]
    full = demo_variants(KEYS, full=True)
    assert full[:2] == demo_variants(KEYS, full=False) and sorted(v for s in full for v in s) == sorted(KEYS)
    assert demo_variants(["m~Q4_1~cpu"], full=False) == [["m~Q4_1~cpu"]] and demo_variants([], full=True) == []


def test_the_default_demo_runs_the_first_sim_of_each_archetype():
    sims = {name: SimpleNamespace(task=SimpleNamespace(archetype=name.split("-")[0]))
            for name in ("feature-b", "feature-a", "planning-x", "research-y", "maintenance-z", "maintenance-a")}
    assert demo_sims(sims, full=False) == ["feature-a", "maintenance-a", "planning-x", "research-y"]
    assert demo_sims(sims, full=True) == sorted(sims)
