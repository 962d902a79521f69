"""Human labels from MLflow: a person scores an episode's trace in the MLflow UI (or with `mlflow.log_feedback`,
source HUMAN) under the name `<rubric>/<criterion>` with a 1-5 value and a rationale; this turns those assessments
into `judges/labels/<rubric>.jsonl` lines, with the episode's sample taken from the episode store, so they train and
test the judges like hand-written labels. Labels already in the file (same id) are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..catalog.labels import Label, append_label, load_labels
from ..catalog.rubrics import Rubric
from .view import sample_from_record


def human_assessments(rubric: str) -> list[tuple[Any, Any]]:
    """(trace, assessment) for every HUMAN assessment named `<rubric>/...` on the sims experiment's traces."""
    from ..agent.traces import find_traces

    out = []
    for trace in find_traces():
        for a in trace.info.assessments or []:
            if a.source.source_type == "HUMAN" and a.name.startswith(f"{rubric}/"):
                out.append((trace, a))
    return out


def import_labels(rubric: Rubric, path: Path) -> int:
    """Append a label for each new human assessment of this rubric; returns how many were added."""
    from ..agent.episodes import episode_store

    have = {label.id for label in load_labels(path, rubric)}
    criteria = {c.name for c in rubric.model.criteria}
    added = 0
    for trace, a in human_assessments(rubric.name):
        criterion = a.name.split("/", 1)[1]
        tags = trace.info.tags
        label_id = f"{rubric.name}-mlflow-{a.assessment_id}"
        if criterion not in criteria or label_id in have or a.value is None:
            continue
        records = {r["episode_id"]: r for r in episode_store(tags["variant"], tags["sim"]).records()}
        record = records.get(tags.get("episode_id", ""))
        if record is None:
            continue
        label = Label(id=label_id, sim=tags["sim"], criterion=criterion, score=int(a.value),
                      rationale=(a.rationale or "(from MLflow, no rationale)").strip(), source="episode",
                      sample=sample_from_record(record), labeller=a.source.source_id or "mlflow")
        append_label(path, label)
        have.add(label_id)
        added += 1
    return added
