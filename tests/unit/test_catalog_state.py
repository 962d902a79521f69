"""Headline views count only what the catalog holds now; what left stays in the warehouse, dated."""

from datetime import datetime

from beyond_vibes_assets.catalog.resource import CatalogResource
from beyond_vibes_assets.catalog.state import CatalogSnapshot, plan_members, record_catalog_state
from resources.warehouse import WarehouseResource, read_sql
from tests.conftest import make_pack

CONFIG = "engines: []\nmodels:\n" + "".join(
    f"  - name: {m}\n    provider: openai\n    model_id: {m}\n    api_key_env: BV_UNSET_KEY\n" for m in ("alpha", "beta"))
ITEMS = [{"id": f"q{i}", "prompt": f"{i}?", "check": {"answer": i}} for i in range(4)]


def sample(variant, task, sid, passed, failure=None):
    return {"variant": variant, "task": task, "sample_id": sid, "passed": passed, "canonical": True,
            "failure_mode": failure, "score": float(passed)}


def setup(tmp_path, packs=("math", "more")):
    config = tmp_path / "models.yaml"
    config.write_text(CONFIG)
    for name in packs:
        make_pack(tmp_path / "packs", name, ITEMS, verifier="numeric")
    return CatalogResource(config=str(config), packs=str(tmp_path / "packs"), sims=str(tmp_path / "sims"))


def fill(wh, variant, task, passes):
    wh.replace_partition("samples", {"variant": variant, "task": task},
                         [sample(variant, task, f"q{i}", p) for i, p in enumerate(passes)])


def headline(wh):
    return {r["variant"]: (r["pass_rate"], r["n"]) for r in wh.query("SELECT variant, pass_rate, n FROM leaderboard")}


def test_plan_members_dates_departures_once_and_welcomes_returns():
    t1, t2, t3 = datetime(2026, 1, 1), datetime(2026, 1, 2), datetime(2026, 1, 3)
    both = CatalogSnapshot({("pack", "a"): ("f1", 2), ("pack", "b"): ("f2", 3)}, {}, frozenset({"pack", "variant", "sim"}))
    only_a = CatalogSnapshot({("pack", "a"): ("f1", 2)}, {}, frozenset({"pack", "variant", "sim"}))
    rows = plan_members([], both, [("variant", "old")], t1)
    assert {(r["name"], r["retired_at"]) for r in rows} == {("a", None), ("b", None), ("old", t1)}
    rows = plan_members(plan_members(rows, only_a, [], t2), only_a, [], t3)
    assert {r["name"]: r["retired_at"] for r in rows} == {"a": None, "b": t2, "old": t1}  # first time found missing
    rows = plan_members(rows, both, [], t3)
    b = next(r for r in rows if r["name"] == "b")
    assert b["retired_at"] is None and b["first_seen"] == t1  # it came back: history continues
    # a kind that could not be read (broken models.yaml) keeps its recorded state
    no_variants = CatalogSnapshot({("pack", "a"): ("f1", 2)}, {}, frozenset({"pack", "sim"}))
    kept = plan_members([{"kind": "variant", "name": "v", "first_seen": t1, "retired_at": None}], no_variants, [], t2)
    assert next(r for r in kept if r["name"] == "v")["retired_at"] is None


def test_a_removed_pack_and_variant_leave_the_headline_and_appear_as_retired(home, tmp_path):
    catalog = setup(tmp_path)
    wh = WarehouseResource()
    fill(wh, "alpha~api~openai", "math", [True, True, False, False])
    fill(wh, "beta~api~openai", "math", [True, False, False, False])
    record_catalog_state(wh, catalog)
    before = headline(wh)
    assert before == {"alpha~api~openai": (0.5, 4), "beta~api~openai": (0.25, 4)}

    make_pack(tmp_path / "packs", "peerqa", ITEMS, verifier="numeric")
    catalog.reload()
    fill(wh, "alpha~api~openai", "peerqa", [True] * 4)
    record_catalog_state(wh, catalog)
    assert headline(wh)["alpha~api~openai"] == (0.75, 8)

    import shutil

    shutil.rmtree(tmp_path / "packs" / "peerqa")
    catalog.reload()
    record_catalog_state(wh, catalog)
    assert headline(wh) == before
    retired = wh.query(read_sql("queries/retired.sql"))
    assert [(r["kind"], r["name"], r["n"], r["n_passed"]) for r in retired] == [("pack", "peerqa", 4, 4)]
    assert retired[0]["retired_at"] is not None
    assert wh.query("SELECT count(*) AS n FROM samples WHERE task = 'peerqa'") == [{"n": 4}]  # history kept

    (tmp_path / "models.yaml").write_text(CONFIG.split("  - name: beta")[0])
    catalog.reload()
    record_catalog_state(wh, catalog)
    assert headline(wh) == {"alpha~api~openai": (0.5, 4)}
    kinds = {(r["kind"], r["name"]) for r in wh.query(read_sql("queries/retired.sql"))}
    assert kinds == {("pack", "peerqa"), ("variant", "beta~api~openai")}


def test_an_item_edited_out_stops_counting_while_its_answer_stays(home, tmp_path):
    catalog = setup(tmp_path, packs=("math",))
    wh = WarehouseResource()
    fill(wh, "alpha~api~openai", "math", [True, True, False, False])
    record_catalog_state(wh, catalog)
    assert wh.query("SELECT n, n_passed FROM pack_scores") == [{"n": 4, "n_passed": 2}]
    make_pack(tmp_path / "packs", "math", ITEMS[1:], verifier="numeric")  # q0 removed
    catalog.reload()
    record_catalog_state(wh, catalog)
    assert wh.query("SELECT n, n_passed FROM pack_scores") == [{"n": 3, "n_passed": 1}]
    assert wh.query("SELECT count(*) AS n FROM samples") == [{"n": 4}]
    (item,) = wh.query(read_sql("queries/retired.sql"))
    assert item["kind"] == "item" and item["n"] == 1


def test_counts_are_integers_model_failures_count_as_wrong_and_machine_failures_are_left_out(home, tmp_path):
    """The one rule (scoring/outcomes.py, sql/views/000_failure_owners.sql): a timeout is the model's (wrong), a dead
    endpoint the machine's (left out of the rate, shown); the Python counting agrees with the view."""
    from beyond_vibes_assets.scoring.outcomes import rate_fields

    catalog = setup(tmp_path, packs=("math",))
    wh = WarehouseResource()
    rows = [sample("alpha~api~openai", "math", "q0", True), sample("alpha~api~openai", "math", "q1", False),
            sample("alpha~api~openai", "math", "q2", False, failure="timeout"),
            sample("alpha~api~openai", "math", "q3", False, failure="endpoint_unreachable")]
    wh.replace_partition("samples", {"variant": "alpha~api~openai", "task": "math"}, rows)
    record_catalog_state(wh, catalog)
    with wh.connect() as con:
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE leaderboard)").fetchall())
    assert all(types[c] == "BIGINT" for c in ("n", "n_passed", "n_answered", "n_failed_calls", "n_model_failed", "packs"))
    (lb,) = wh.query("SELECT pass_rate, answered_rate, n, n_scored, n_answered, n_failed_calls, n_model_failed "
                     "FROM leaderboard")
    assert lb == {"pass_rate": 1 / 3, "answered_rate": 0.5, "n": 4, "n_scored": 3, "n_answered": 2,
                  "n_failed_calls": 1, "n_model_failed": 1}
    py = rate_fields((r["passed"], r["failure_mode"]) for r in rows)
    assert (py["rate"], py["answered_rate"], py["n_failed_calls"], py["n_model_failed"]) == (1 / 3, 0.5, 1, 1)


def test_an_unchanged_catalog_is_not_written_again(home, tmp_path):
    """Every run records the state; a backfill's many runs must not each rewrite (and lock) it for nothing."""
    catalog = setup(tmp_path)
    wh = WarehouseResource()
    fill(wh, "alpha~api~openai", "math", [True, False, False, False])
    record_catalog_state(wh, catalog)
    first = wh.query("SELECT kind, name, recorded_at FROM catalog_members ORDER BY kind, name")
    writes = []
    original = wh.replace_partitions
    object.__setattr__(wh, "replace_partitions", lambda *a, **k: writes.append(a) or original(*a, **k))
    record_catalog_state(wh, catalog)
    assert writes == [] and wh.query("SELECT kind, name, recorded_at FROM catalog_members ORDER BY kind, name") == first
    make_pack(tmp_path / "packs", "math", ITEMS[1:], verifier="numeric")  # an item edited out: a change
    catalog.reload()
    record_catalog_state(wh, catalog)
    assert len(writes) == 1
    assert wh.query("SELECT count(*) AS n FROM catalog_items WHERE task = 'math'") == [{"n": 3}]
