"""Replace-a-partition: re-materializing never duplicates rows and never touches other partitions."""

import duckdb
import pytest

from resources.warehouse import WarehouseResource


def row(variant, task, sample_id, passed=True):
    return {"variant": variant, "task": task, "sample_id": sample_id, "passed": passed, "canonical": True, "score": 1.0}


def test_replace_partition_is_idempotent_and_isolated(home):
    wh = WarehouseResource()
    wh.replace_partition("samples", {"variant": "a", "task": "t"}, [row("a", "t", "1"), row("a", "t", "2")])
    wh.replace_partition("samples", {"variant": "b", "task": "t"}, [row("b", "t", "1")])
    wh.replace_partition("samples", {"variant": "a", "task": "t"}, [row("a", "t", "1", False), row("a", "t", "2")])
    rows = wh.query("SELECT variant, sample_id, passed FROM samples ORDER BY variant, sample_id")
    assert rows == [{"variant": "a", "sample_id": "1", "passed": False}, {"variant": "a", "sample_id": "2", "passed": True},
                    {"variant": "b", "sample_id": "1", "passed": True}]
    assert wh.db_path().is_relative_to(home)


def test_failed_insert_rolls_back_the_delete(home):
    wh = WarehouseResource()
    wh.replace_partition("samples", {"variant": "a", "task": "t"}, [row("a", "t", "1")])
    with pytest.raises(duckdb.ConversionException):
        wh.replace_partition("samples", {"variant": "a", "task": "t"}, [{**row("a", "t", "2"), "attempt": "not-a-number"}])
    assert wh.query("SELECT sample_id FROM samples") == [{"sample_id": "1"}]


def test_views_compute_pass_rates(home):
    wh = WarehouseResource()
    wh.replace_partition("samples", {"variant": "a", "task": "t"}, [row("a", "t", "1"), row("a", "t", "2", False)])
    # what the catalog holds (record_catalog_state writes these from the parsed catalog)
    wh.replace_partitions([("catalog_members", {}, [{"kind": "variant", "name": "a"}, {"kind": "pack", "name": "t"}]),
                           ("catalog_items", {}, [{"task": "t", "sample_id": "1"}, {"task": "t", "sample_id": "2"}])])
    (lb,) = wh.query("SELECT variant, pass_rate, n, n_passed FROM leaderboard")
    assert lb == {"variant": "a", "pass_rate": 0.5, "n": 2, "n_passed": 1}


def test_a_table_from_an_older_ddl_gets_the_new_columns(home):
    """Warehouses outlive releases: a column added to sql/schema/ is added to an existing table, old rows kept."""
    import duckdb

    wh = WarehouseResource()
    path = wh.db_path()
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sim_episodes (variant VARCHAR NOT NULL, sim VARCHAR NOT NULL, episode_id VARCHAR NOT NULL)")
    con.execute("INSERT INTO sim_episodes VALUES ('v', 's', 'old')")
    con.close()
    wh.replace_partition("sim_episodes", {"variant": "v", "sim": "t"},
                         [{"variant": "v", "sim": "t", "episode_id": "new", "pushback_flipped": True, "loops": "[]"}])
    rows = wh.query("SELECT episode_id, pushback_flipped FROM sim_episodes ORDER BY episode_id")
    assert rows == [{"episode_id": "new", "pushback_flipped": True}, {"episode_id": "old", "pushback_flipped": None}]


def test_the_schema_is_replayed_only_when_its_files_changed(home, monkeypatch):
    """Each run opens the warehouse: a file that already has this schema (its hash in _schema_version) skips the DDL;
    a file stamped by other DDL (an older release) gets it replayed, so new tables, columns and views still arrive."""
    import duckdb

    from resources import warehouse as W

    with WarehouseResource().connect():
        pass
    path = WarehouseResource().db_path()
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW pack_scores")
    con.close()
    with WarehouseResource().connect() as con:  # a new resource (a new run): same hash, nothing replayed
        assert not con.execute("SELECT * FROM duckdb_views() WHERE view_name = 'pack_scores'").fetchall()
    tables, views, digest = W.schema_files()
    monkeypatch.setattr(W, "schema_files", lambda: (tables, views, "another release"))
    with WarehouseResource().connect() as con:  # other DDL: replayed, the view is back, the stamp follows
        assert con.execute("SELECT * FROM duckdb_views() WHERE view_name = 'pack_scores'").fetchall()
        assert con.execute("SELECT hash FROM _schema_version").fetchall() == [("another release",)]


def test_the_c_yaml_loader_reads_every_shipped_file_as_the_python_one_does():
    """catalog/yaml_text.load_yaml (libyaml) against yaml.safe_load on every YAML file the catalog ships."""
    import yaml

    from beyond_vibes_assets.catalog.yaml_text import load_yaml
    from beyond_vibes_assets.settings import REPO_ROOT

    files = [REPO_ROOT / "models.yaml", *REPO_ROOT.glob("packs/*/*.yaml"), *REPO_ROOT.glob("sims/*/task.yaml"),
             *REPO_ROOT.glob("judges/*.yaml"), *REPO_ROOT.glob("lm_eval_tasks/*/*.yaml")]
    assert len(files) > 20
    for file in files:
        assert load_yaml(file.read_text()) == yaml.safe_load(file.read_text()), file
    assert yaml.__with_libyaml__  # the path measured in catalog/yaml_text.py (without libyaml it falls back, same values)
