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
