"""What a judge sees, and human labels: format, deterministic split, clear errors."""

import json

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.labels import Label, append_label, load_labels
from beyond_vibes_assets.catalog.rubrics import scan_rubrics
from beyond_vibes_assets.judging.view import judge_view, sample_from_record
from beyond_vibes_assets.settings import REPO_ROOT

RECORD = {"prompt": "Plan the migration", "answer": "Use alembic in db/migrations.py", "diff": "+x\n",
          "episode": {"steps": [{"kind": "model", "reply": "reading"},
                                {"kind": "tool", "tool": "read_file", "arguments": {"path": "db.py"}, "ok": True,
                                 "observation": "import sqlite3"}]}}


def test_the_view_shows_only_what_the_criterion_asks_and_is_bounded():
    sample = sample_from_record(RECORD)
    assert "[read_file {'path': 'db.py'} -> ok] import sqlite3" in sample["transcript"]
    view = judge_view(sample, ["task", "final_answer"])
    assert "Plan the migration" in view and "alembic" in view and "Diff" not in view and "Transcript" not in view
    long = judge_view({**sample, "diff": "+" * 50_000}, ["diff"])
    assert len(long) < 9000 and "characters left out" in long


def test_labels_round_trip_split_deterministically_and_refuse_mistakes(tmp_path):
    rubric = scan_rubrics(REPO_ROOT / "judges")[0]["design"]
    path = tmp_path / "design.jsonl"
    for i in range(40):  # 40 different samples (the split is by sample: one sample's labels share a side)
        sample = sample_from_record({**RECORD, "answer": f"{RECORD.get('answer', '')} #{i}"})
        append_label(path, Label(id=f"l{i}", sim="planning-auth-plan", criterion="specificity", score=1 + i % 5,
                                 rationale="names no file of the repo", sample=sample))
    labels = load_labels(path, rubric)
    splits = [label.split for label in labels]
    assert splits == [label.split for label in load_labels(path, rubric)]  # the same every time
    assert 5 <= splits.count("held_out") <= 20 and "train" in splits
    path.write_text(path.read_text() + json.dumps({"id": "l0", "sim": "s", "criterion": "vibes", "score": 7,
                                                   "rationale": "x", "sample": {}}) + "\n")
    with pytest.raises(ConfigError) as err:
        load_labels(path, rubric)
    text = "\n".join(map(str, err.value.problems))
    assert "line 41" in text and "score" in text and "rationale" in text


def test_a_person_labels_a_stored_episode_from_the_terminal(home, tmp_path, monkeypatch, capsys):
    from beyond_vibes_assets.agent.episodes import episode_store
    from beyond_vibes_assets.cli import labels as label_cli
    from beyond_vibes_assets.cli.main import main

    episode_store("v~q~e", "planning-auth-plan").append(
        {**RECORD, "cache_key": "k", "episode_id": "abcdef1234567890", "created_at": "2026-11-24T00:00:00"})
    answers = iter(["2", "plan names no real file", "9", "4", "keeps local-only"])
    monkeypatch.setattr(label_cli, "_ask", lambda prompt: next(answers))
    assert main(["judges", "label", "--variant", "v~q~e", "--sim", "planning-auth-plan", "--rubric", "design",
                 "--labels-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "specificity" in out and "Plan the migration" in out and "5: Every step names" in out
    labels = load_labels(tmp_path / "design.jsonl", scan_rubrics(REPO_ROOT / "judges")[0]["design"])
    # specificity scored 2; security answered "9": refused, skipped; constraints scored 4
    assert [(x.criterion, x.score) for x in labels] == [("specificity", 2), ("constraints", 4)]
    assert labels[0].sample.final_answer == RECORD["answer"] and labels[0].source == "episode"


@pytest.mark.parametrize("rubric", ["design", "analyst", "engineer", "janitor", "tier1"])
def test_shipped_labels_load_and_span_the_scale(rubric):
    labels = load_labels(REPO_ROOT / "judges" / "labels" / f"{rubric}.jsonl", scan_rubrics(REPO_ROOT / "judges")[0][rubric])
    assert len(labels) >= 20 and {x.score for x in labels} == {1, 2, 3, 4, 5}
    assert {x.source for x in labels} >= {"reference", "flawed"} and "held_out" in {x.split for x in labels}
