"""The CLI as scripts and CI use it: a version, help text on every option, exit codes and errors on stderr."""

import argparse

import pytest

from beyond_vibes_assets import __version__
from beyond_vibes_assets.cli.main import build_parser, main


def test_version_prints_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"beyond-vibes {__version__}"


def _walk(parser: argparse.ArgumentParser, path: str = "beyond-vibes"):
    yield path, parser
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


def test_every_option_and_argument_has_help_text():
    missing = [f"{path} {' / '.join(a.option_strings) or a.dest}" for path, parser in _walk(build_parser())
               for a in parser._actions  # noqa: SLF001
               if not isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))  # noqa: SLF001
               and not a.help]
    assert missing == []


def test_help_documents_exit_codes_and_environment(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "3  a missing baseline" in out and "BEYOND_VIBES_HOME" in out


def test_a_missing_baseline_is_exit_3_on_stderr(home, capsys):
    assert main(["gate", "--baseline", "nope"]) == 3
    captured = capsys.readouterr()
    assert "no baseline 'nope'" in captured.err and "no baseline" not in captured.out


def test_json_output_of_validate_variants_baseline_and_sims_show(home, tmp_path, monkeypatch, capsys):
    """--json prints one JSON document on stdout (nothing else there), for scripts; exit codes stay the same."""
    import json

    from resources.warehouse import WarehouseResource

    assert main(["validate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["problems"] == [] and out["packs"] >= 8 and out["variants"] >= 5
    assert main(["variants", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"key": "smollm2-135m~Q4_1~cpu", "model": "smollm2-135m", "quant": "Q4_1", "engine": "cpu"} in rows

    broken = tmp_path / "models.yaml"
    broken.write_text("models:\n  - name: x\n    provider: nowhere\n    model_id: m\n")
    assert main(["validate", "--json", "--config", str(broken)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and out["problems"] and all(p["file"] == str(broken) and p["fix"] for p in out["problems"])

    assert main(["baseline", "save", "main", "--json"]) == 3  # nothing scored yet: a missing input
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"baseline": "main", "saved": 0} and "run packs or sims first" in captured.err

    WarehouseResource().replace_partition("sim_episodes", {"variant": "v~q~e", "sim": "s"}, [
        {"variant": "v~q~e", "sim": "s", "episode_id": "ep123", "success": True, "final_answer": "done"}])
    assert main(["sims", "show", "ep1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["episode"]["episode_id"] == "ep123" and shown["steps"] == []


def test_verbose_and_quiet_set_the_run_log_level(home, monkeypatch):
    import importlib
    import os

    cli = importlib.import_module("beyond_vibes_assets.cli.main")

    seen = []
    monkeypatch.setattr(cli, "cmd_variants", lambda args: seen.append(os.environ.get("BEYOND_VIBES_LOG_LEVEL")) or 0)
    monkeypatch.delenv("BEYOND_VIBES_LOG_LEVEL", raising=False)
    for flags, level in ((["-q"], "WARNING"), (["-v"], "DEBUG")):
        monkeypatch.delenv("BEYOND_VIBES_LOG_LEVEL", raising=False)
        assert main([*flags, "variants"]) == 0
        assert seen[-1] == level
    with pytest.raises(SystemExit) as done:
        main(["-q", "-v", "variants"])
    assert done.value.code == 2  # one or the other


def test_every_beyond_vibes_variable_is_one_setting_read_when_asked(monkeypatch):
    """One settings object (pydantic-settings) names every BEYOND_VIBES_* variable the code reads; nothing reads one
    at import time (BEYOND_VIBES_MAX_FOREIGN_CPU did), so setting it later takes effect."""
    import re

    from beyond_vibes_assets.history import max_foreign_cpu_share
    from beyond_vibes_assets.settings import Settings
    from tests.conftest import REPO

    known = {f"BEYOND_VIBES_{name.upper()}" for name in Settings.model_fields}
    used, direct = set(), []
    for folder in ("beyond_vibes_assets", "resources", "partitions"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            used |= set(re.findall(r"BEYOND_VIBES_[A-Z][A-Z_]*[A-Z]", text))
            reads = r"(environ\.get|getenv)\([\"']BEYOND_VIBES_|environ\[[\"']BEYOND_VIBES_[A-Z_]+[\"']\](?!\s*=)"
            if path.name != "settings.py" and re.search(reads, text):  # writes (the CLI's -v/-q) are fine
                direct.append(str(path.relative_to(REPO)))
    assert used - known == set() and direct == []
    monkeypatch.setenv("BEYOND_VIBES_MAX_FOREIGN_CPU", "0.55")
    assert max_foreign_cpu_share() == 0.55
    with pytest.raises(SystemExit):
        main(["--help"])
