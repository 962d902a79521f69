"""Open a report in real headless Chromium (Debian package) and report what rendered.

A wrapper page loads the report in a 1400 px wide iframe (file:// access allowed for this one process) and writes,
per plot, the SVG's rendered size and number of drawn elements, each table's width and the page's scroll width
into its own DOM, which `--dump-dom` prints.
Console messages come from Chromium's log on stderr."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

WRAPPER = """<!doctype html><html><body><iframe id="r" src="{src}" style="width:1400px;height:3000px"></iframe>
<pre id="out"></pre><script>
document.getElementById('r').addEventListener('load', () => {{
  const doc = document.getElementById('r').contentDocument;
  const plots = [...doc.querySelectorAll('figure.plot')].map(f => {{
    const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : {{width: 0, height: 0}};
    return {{id: f.id, width: box.width, height: box.height,
             drawn: svg ? svg.querySelectorAll('path, line, rect, polyline, use, text').length : 0}};
  }});
  const tables = [...doc.querySelectorAll('table')].map(t => Math.round(t.getBoundingClientRect().width));
  const page = doc.documentElement.scrollWidth;
  document.getElementById('out').textContent = 'RESULT' + JSON.stringify({{plots, tables, page, title: doc.title}}) + 'END';
}});
</script></body></html>"""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files",
                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def inspect_report(page: Path, scratch: Path, screenshot: Path) -> dict:
    binary = chromium()
    assert binary, "headless Chromium is missing: deploy/install.sh --dev installs the Debian package"
    wrapper = scratch / "wrapper.html"
    wrapper.write_text(WRAPPER.format(src=page.resolve().as_uri()))
    run = subprocess.run([binary, *CHROMIUM_FLAGS, "--dump-dom", wrapper.as_uri()], capture_output=True, text=True,
                         timeout=120)
    found = re.search(r"RESULT(.*?)END", run.stdout, re.S)
    assert found, f"the wrapper did not report (stdout {run.stdout[-500:]!r}, stderr {run.stderr[-1500:]!r})"
    result = json.loads(found.group(1).replace("&quot;", '"'))
    result["console"] = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    shot = subprocess.run([binary, *CHROMIUM_FLAGS, "--window-size=1400,2400", f"--screenshot={screenshot}",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-1500:]
    return result
