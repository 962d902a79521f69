"""`beyond-vibes judges label`: a person scores a stored episode against a rubric from the terminal.

Shows what the judge would see for each criterion (judging/view.py, at the judge's evidence budget, recorded
with the label so a judge shown less is refused) and the anchored scale, asks for a score
(1-5; Enter skips) and a one-line rationale, and appends the label, with the sample itself, to
`judges/labels/<rubric>.jsonl`.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from rich.markup import escape

from ..catalog.labels import Label, append_label
from ..catalog.rubrics import scan_rubrics
from ..judging.view import judge_view, sample_from_record
from ..settings import judges_dir


def _ask(prompt: str) -> str:
    return input(prompt).strip()


def cmd_label(args: argparse.Namespace, console: Any) -> int:
    from ..agent.episodes import episode_store

    rubrics, broken = scan_rubrics(judges_dir())
    if args.rubric not in rubrics:
        console.print(f"no rubric {args.rubric!r}; rubrics: {', '.join(sorted(rubrics)) or 'none'}"
                      + (f" (broken: {', '.join(broken)})" if broken else ""))
        return 1
    rubric = rubrics[args.rubric]
    records = list(episode_store(args.variant, args.sim).latest_by_key().values())
    if not records:
        console.print(f"no stored episode of {args.sim} for {args.variant}: run `beyond-vibes sims run` first")
        return 1
    record = sorted(records, key=lambda r: r.get("created_at", ""))[-1]
    sample = sample_from_record(record)
    out = Path(args.labels_dir or judges_dir() / "labels") / f"{rubric.name}.jsonl"
    added = 0
    for criterion in rubric.model.criteria:
        if args.criterion and criterion.name != args.criterion:
            continue
        console.rule(escape(f"{rubric.name} / {criterion.name}: {criterion.question}"))
        console.print(escape(judge_view(sample, list(criterion.sees), budget=args.evidence_chars)))
        for score, anchor in sorted(criterion.anchors.items()):
            console.print(escape(f"  {score}: {anchor}"))
        answer = _ask("score 1-5 (Enter skips): ")
        if not answer:
            continue
        if answer not in {"1", "2", "3", "4", "5"}:
            console.print(f"not a score: {escape(answer)!s}; skipped")
            continue
        rationale = _ask("one-line rationale: ")
        label = Label(id=f"{rubric.name}-{args.sim}-{record['episode_id'][:10]}-{criterion.name}", sim=args.sim,
                      criterion=criterion.name, score=int(answer), rationale=rationale or "(none given)",
                      source="episode", sample=sample, labeller=getpass.getuser(),
                      evidence_chars=args.evidence_chars)
        append_label(out, label)
        added += 1
    console.print(f"{added} label(s) appended to {out}")
    return 0
