"""The report as one self-contained HTML page: plots as inline SVG, tables from the same Markdown (markdown-it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt

from . import plots

TEMPLATES = Path(__file__).parent / "templates"


def markdown_to_html(markdown: str) -> str:
    """CommonMark with pipe tables; raw HTML in the Markdown is escaped, never passed through."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)


def figures(data: dict[str, Any]) -> list[dict[str, str]]:
    """The plots that have something to draw, each with an id the browser test looks for."""
    labels = data.get("labels", {})
    made = [
        ("frontier", "Quality vs speed", plots.frontier(data["leaderboard"], labels)),
        ("pack-rates", "Per-pack pass rates", plots.pack_rates(data["matrix"], labels)),
        ("latency", "Latency distributions", plots.latency(data.get("items", ()), labels)),
        ("history", "History and regressions", plots.history(data.get("history", ()), set(data.get("flagged", {})), labels)),
        ("archetypes", "Simulations per archetype", plots.archetypes(data.get("by_archetype", ()), labels)),
    ]
    return [{"id": i, "title": t, "svg": svg} for i, t, svg in made if svg]


def render_html(markdown: str, data: dict[str, Any], title: str = "Beyond Vibes report") -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        title=title, manifest=data["manifest"], figures=figures(data),
        body=markdown_to_html(markdown.removeprefix(f"# {title}\n")))  # the page has its own title
