"""A new home's SQLite MLflow store, made from a migrated empty one instead of migrating it again.

MLflow creates a tracking database by building its first tables and then running every Alembic revision since (about
a hundred): ~1.2 s of CPU before a new home's first trace, in every process that finds no store yet (each test home,
each fresh clone's demo). The result is the same for every home of one MLflow version, so it is made once per version
under the cache folder and copied. The template holds MLflow's tables at its head revision and no rows: its Default
experiment, whose artifact location depends on the process that makes it, is left to MLflow, which adds it when it
first opens the copy. Only a store that does not exist yet is made; an existing one is never touched, and a failure
here only leaves the store for MLflow to create as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from importlib.metadata import version
from pathlib import Path

from ..settings import cache_root


def template() -> Path:
    """The migrated empty store for the installed MLflow, made on first use (atomically: racing makers agree)."""
    path = cache_root() / "mlflow" / f"empty-store-{version('mlflow')}.db"  # without importing MLflow (seconds)
    if path.exists():
        return path
    from mlflow.tracking import MlflowClient

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        db = Path(tmp) / "store.db"
        MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()  # MLflow creates and migrates it
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            con.execute("DELETE FROM experiments WHERE experiment_id = 0")  # re-made by MLflow for each home
        os.replace(db, path)
    return path


def ensure_store(db: Path) -> None:
    """Make `db` a copy of the template when it does not exist yet (a store another process made first is kept)."""
    if db.exists():
        return
    staged = db.with_name(f".{db.name}.{os.getpid()}")
    try:
        source = template()
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staged)
        os.link(staged, db)  # create-if-absent in one step
    except FileExistsError:
        pass  # another process made it first: theirs is kept
    except Exception:  # noqa: BLE001 - a speed-up only: MLflow makes the store itself, as it would without one
        pass
    finally:
        staged.unlink(missing_ok=True)
