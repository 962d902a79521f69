"""Lint and type-check run with the suite, so CI holds them: ruff over the project (configuration in
pyproject.toml, line length 120 as the code keeps) and mypy over the typed core ([tool.mypy] files)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("tool,args", [("ruff", ["check", "."]), ("mypy", [])])
def test_tool_is_clean(tool, args):
    exe = BIN / tool if (BIN / tool).exists() else shutil.which(tool)
    assert exe, f"{tool} is not installed: deploy/install.sh --dev installs it"
    done = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
