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


def judge_view(sample: dict[str, str], sees: list[str], budget: int | None = None) -> str:
    """The text shown to a judge (and to a person labelling) for one criterion. `budget` caps the whole view in
    characters (a small judge's context), shared among the fields in proportion to their own limits."""
    titles = {"task": "Task", "final_answer": "Final answer", "diff": "Diff", "transcript": "Transcript excerpt"}
    total = sum(LIMITS[f] for f in sees)
    scale = min(1.0, budget / total) if budget else 1.0
    parts = []
    for field in sees:
        body = _clip(sample.get(field) or "(empty)", max(200, int(LIMITS[field] * scale)))
        parts.append(f"## {titles[field]}\n{body}")
    return "\n\n".join(parts)
