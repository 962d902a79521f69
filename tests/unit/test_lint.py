"""Lint and type-check run with the suite, so CI holds them: ruff over the project (configuration in
pyproject.toml, line length 120 as the code keeps) and mypy over the typed core ([tool.mypy] files).

mypy keeps its incremental cache under the platform's cache folder, not in the clone: checking the typed core means
analysing what it imports (Dagster, pydantic), ~11 s on a clean clone and ~0.5 s from the cache. The cache is sound
across clones: mypy re-checks any module whose source hash differs from the cached one, whatever its path."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from beyond_vibes_assets.settings import cache_root

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("tool,args", [("ruff", ["check", "."]), ("mypy", [])])
def test_tool_is_clean(tool, args):
    exe = BIN / tool if (BIN / tool).exists() else shutil.which(tool)
    assert exe, f"{tool} is not installed: deploy/install.sh --dev installs it"
    env = {**os.environ, "MYPY_CACHE_DIR": str(cache_root() / "mypy" / sys.implementation.cache_tag)}
    done = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
