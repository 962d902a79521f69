"""A new home's MLflow store is a copy of a migrated empty one kept in the cache: the same schema MLflow would make
(its head revision, every table), its own Default experiment, traces written and read back; an existing store is
never replaced, and without a usable template MLflow makes the store itself, as before."""

import sqlite3

import pytest

from beyond_vibes_assets.agent import tracking_store
from beyond_vibes_assets.agent.traces import experiment_id, mlflow_module, tracking_uri


def tables_and_revision(db) -> tuple[set[str], str]:
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (revision,) = con.execute("SELECT version_num FROM alembic_version").fetchone()
    return tables, revision


def log_one_trace(name: str) -> str:
    mlflow = mlflow_module()
    span = mlflow.start_span_no_context(name, inputs={"q": name}, experiment_id=experiment_id())
    span.end(outputs={"a": 1})
    return span.trace_id


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BEYOND_VIBES_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_new_home_s_store_is_the_template_s_copy_and_holds_what_mlflow_would_make(home, tmp_path, monkeypatch,
                                                                                   fresh_cache):
    # MLflow's own store, made the way it always was, to compare with
    made_by_mlflow = tmp_path / "mlflow_own.db"
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=f"sqlite:///{made_by_mlflow}").search_experiments()

    tracking_uri()  # the first home on this machine makes the template, then its store from it
    (template,) = (fresh_cache / "mlflow").glob("empty-store-*.db")
    assert tables_and_revision(template) == tables_and_revision(made_by_mlflow)
    with sqlite3.connect(template) as con:
        assert con.execute("SELECT count(*) FROM experiments").fetchone() == (0,)  # no row a home would inherit

    second = tmp_path / "second_home"
    monkeypatch.setenv("BEYOND_VIBES_HOME", str(second))
    trace_id = log_one_trace("in the second home")
    db = second / "mlflow" / "mlflow.db"
    assert tables_and_revision(db) == tables_and_revision(made_by_mlflow)
    with sqlite3.connect(db) as con:
        names = {r[0] for r in con.execute("SELECT name FROM experiments")}
    assert names == {"Default", "beyond-vibes-sims"}  # MLflow added its Default experiment to this copy
    assert mlflow_module().get_trace(trace_id).data.spans[0].name == "in the second home"

    # an existing store is never replaced: the trace is still there after the next call
    tracking_uri()
    assert mlflow_module().get_trace(trace_id) is not None


def test_without_a_usable_template_mlflow_makes_the_store_itself(home, monkeypatch, fresh_cache):
    def unwritable():
        raise PermissionError("cache folder is read-only")

    monkeypatch.setattr(tracking_store, "template", unwritable)
    trace_id = log_one_trace("no template")
    assert (home / "mlflow" / "mlflow.db").exists() and not (fresh_cache / "mlflow").exists()
    assert mlflow_module().get_trace(trace_id) is not None
