"""The report as a self-contained HTML page, from the same Markdown (headings, paragraphs, pipe tables)."""

from __future__ import annotations

import html
import re

from ..scoring.tables import is_separator, pipe_rows

STYLE = ("body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1600px}table{border-collapse:collapse;margin:1em 0}"
         "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}td:nth-child(2){text-align:left}"
         "code{font-size:12px}")


def _inline(text: str) -> str:
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def markdown_to_html(markdown: str, title: str = "Beyond Vibes report") -> str:
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{STYLE}</style></head><body>"]
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            head, body = rows[0], [r for r in rows[1:] if not is_separator(r)]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>")
            out.extend("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
            out.append("</table>")
            rows.clear()

    for line in markdown.splitlines():
        cells = pipe_rows(line)
        if cells:
            rows.append(cells[0])
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    out.append("</body></html>")
    return "\n".join(out)
