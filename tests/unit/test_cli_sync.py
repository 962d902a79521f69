"""A pack folder dropped into the packs directory becomes a task partition after `beyond-vibes sync`."""

import shutil

import dagster as dg

from beyond_vibes_assets.cli.main import main
from tests.conftest import REPO, make_pack


def test_new_pack_folder_becomes_a_partition(home, tmp_path, capsys):
    packs = tmp_path / "packs"
    shutil.copytree(REPO / "packs" / "reasonmath", packs / "reasonmath")
    assert main(["sync", "--packs", str(packs)]) == 0
    assert "+ task reasonmath" in capsys.readouterr().out
    make_pack(packs, "capitals", [{"id": "fr", "prompt": "Capital of France?", "check": {"answer": "Paris"}}], verifier="exact")
    assert main(["sync", "--packs", str(packs)]) == 0
    out = capsys.readouterr().out
    assert "+ task capitals" in out and "reasonmath" not in out
    shutil.rmtree(packs / "reasonmath")
    assert main(["sync", "--packs", str(packs)]) == 0
    assert "- task reasonmath (pack folder gone" in capsys.readouterr().out
    with dg.DagsterInstance.get() as instance:  # the CLI's own instance under BEYOND_VIBES_HOME
        assert instance.get_dynamic_partitions("task") == ["capitals"]
        assert "smollm2-135m~Q4_1~cpu" in instance.get_dynamic_partitions("variant")
