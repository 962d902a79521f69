"""What a judge sees of an episode (pure): the task, the final answer, the diff and a bounded transcript excerpt,
each only when the criterion asks for it. Bounded so a long episode cannot blow the judge's context, and the same
text whether the episode comes from the store or from a shipped label.
"""

from __future__ import annotations

from typing import Any

LIMITS = {"task": 4000, "final_answer": 6000, "diff": 8000, "transcript": 6000}


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters left out ...]\n{text[-half:]}"


def transcript(steps: list[dict[str, Any]]) -> str:
    """Model replies and tool calls with their results, one line each, in order."""
    lines = []
    for s in steps:
        if s.get("kind") == "model":
            reply = (s.get("reply") or "").strip().replace("\n", " ")
            lines.append(f"[model] {reply[:400]}" + (f" (tool calls: {str(s['tool_calls'])[:200]})" if s.get("tool_calls") else ""))
        elif s.get("kind") == "tool":
            status = "ok" if s.get("ok") else (s.get("error_kind") or "failed")
            lines.append(f"[{s.get('tool')} {str(s.get('arguments'))[:120]} -> {status}] "
                         f"{str(s.get('observation') or '').strip()[:300]}")
    return "\n".join(lines)


def sample_from_record(record: dict[str, Any]) -> dict[str, str]:
    """A stored episode record as the four fields a judge can see."""
    return {"task": record.get("prompt") or "", "final_answer": record.get("answer") or "",
            "diff": record.get("diff") or "", "transcript": transcript(record.get("episode", {}).get("steps", []))}


def shares(lengths: dict[str, int], budget: int) -> dict[str, int]:
    """Pure: characters each field may keep under `budget`. Nothing is cut when everything fits; otherwise short
    fields keep all they have and the rest is split evenly among the long ones (water-filling), so a budget never
    clips a field that was already short, and the judge sees the same text as a labeller whenever it fits."""
    out, left, todo = {}, budget, sorted(lengths, key=lambda f: lengths[f])
    while todo:
        fair = left // len(todo)
        field = todo[0]
        if lengths[field] <= fair:
            out[field] = lengths[field]
            left -= lengths[field]
            todo.pop(0)
            continue
        for f in todo:
            out[f] = max(200, fair)
        break
    return out


def judge_view(sample: dict[str, str], sees: list[str], budget: int | None = None) -> str:
    """The text shown to a judge (and to a person labelling) for one criterion: each field within its own limit,
    and the whole view within `budget` characters when given (a small judge's context)."""
    titles = {"task": "Task", "final_answer": "Final answer", "diff": "Diff", "transcript": "Transcript excerpt"}
    bodies = {f: sample.get(f) or "(empty)" for f in sees}
    limits = {f: min(LIMITS[f], len(bodies[f])) for f in sees}
    if budget is not None:
        limits = {f: min(limits[f], n) for f, n in shares(limits, budget).items()}
    return "\n\n".join(f"## {titles[f]}\n{_clip(bodies[f], limits[f])}" for f in sees)
