"""What the default demo covers, in which stages: the first variant alone (the first report in minutes), then its
engine and quant twins (the engine and quant comparisons), the first sim of each archetype; `--full` everything."""

from types import SimpleNamespace

from beyond_vibes_assets.cli.main import demo_sims, demo_variants

KEYS = ["m~Q4_1~cpu", "m~Q8_0~cpu", "m~Q4_K_M~cpu", "m~Q2_K~cpu", "m~Q4_1~cpu-q8kv", "api~api~openai", "api2~api~x"]


def test_the_default_demo_scores_the_first_variant_then_its_engine_and_quant_twins_and_other_models():
    assert demo_variants(KEYS, full=False) == [["m~Q4_1~cpu"], ["m~Q4_1~cpu-q8kv", "m~Q2_K~cpu", "api~api~openai",
                                                                "api2~api~x"]]
    full = demo_variants(KEYS, full=True)
    assert full[:2] == demo_variants(KEYS, full=False) and sorted(v for s in full for v in s) == sorted(KEYS)
    assert demo_variants(["m~Q4_1~cpu"], full=False) == [["m~Q4_1~cpu"]] and demo_variants([], full=True) == []


def test_the_default_demo_runs_the_first_sim_of_each_archetype():
    sims = {name: SimpleNamespace(task=SimpleNamespace(archetype=name.split("-")[0]))
            for name in ("feature-b", "feature-a", "planning-x", "research-y", "maintenance-z", "maintenance-a")}
    assert demo_sims(sims, full=False) == ["feature-a", "maintenance-a", "planning-x", "research-y"]
    assert demo_sims(sims, full=True) == sorted(sims)


def test_the_demo_command_runs_its_stages_and_renders_a_report_after_each(home, tmp_path, monkeypatch, capsys):
    """The README's first command, end to end in memory: API variants on a scripted endpoint (no model runs in the
    unit tier; the real engine is the e2e tier's), no sims or judges configured. It validated with `validate`'s
    code and once crashed there (`args.json` missing): the whole command is run here so that cannot recur."""
    import re

    from beyond_vibes_assets.cli.main import main
    from tests.conftest import make_pack
    from tests.scripted import ScriptedEndpoint, api_models, last_user

    def reply(body):
        a, b = map(int, re.search(r"(\d+) \+ (\d+)", last_user(body)).groups())
        return str(a + b) if body.get("model") == "good" else "0"

    endpoint = ScriptedEndpoint(reply)
    config = tmp_path / "models.yaml"
    # the default demo runs models.yaml's demo.packs on every variant; `--full` every pack
    config.write_text(api_models(endpoint.url, ["good", "bad"]) + "demo:\n  packs: [math]\n")
    for name, n in (("math", 3), ("more", 2)):
        make_pack(tmp_path / "packs", name, [{"id": f"a{i}", "prompt": f"What is {i} + 1?", "check": {"answer": i + 1}}
                                             for i in range(n)], verifier="numeric")
    (tmp_path / "sims").mkdir()
    (tmp_path / "judges").mkdir()
    monkeypatch.setenv("BEYOND_VIBES_SIMS", str(tmp_path / "sims"))
    monkeypatch.setenv("BEYOND_VIBES_JUDGES", str(tmp_path / "judges"))
    with endpoint.running():
        assert main(["demo", "--config", str(config), "--packs", str(tmp_path / "packs")]) == 0
        out = capsys.readouterr().out
        # the first model's packs, then the other's (no sims, no lm-eval, no judges here): a report after each
        assert out.count("report after packs on 1 variant(s)") == 1 and "report after every variant's" in out
        assert "wall time" in out
        assert (home / "reports" / "report.html").exists() and endpoint.count() == 6
        report = (home / "reports" / "report.md").read_text()
        assert "| `good~api~openai_compatible` |" in report and "Every variant has all of them." in report
        assert main(["demo", "--full", "--config", str(config), "--packs", str(tmp_path / "packs")]) == 0
    assert endpoint.count() == 6 + 4  # only what was missing: `more` on both variants
    assert "Ranked over the same 2 pack(s)" in (home / "reports" / "report.md").read_text()
