"""The harness's own git, which nothing the workspace holds can configure.

An episode's repository lives outside the workspace (its git directory is the harness's, never writable by the
sandbox), and every harness git call runs with no system, global or user configuration (HOME is an empty
folder of ours, GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null), with hooks, fsmonitor, external diff,
textconv and filter drivers off, and with `$GIT_DIR/info/attributes` (the highest-precedence attributes file)
resetting every attribute a worktree `.gitattributes` could set. Diffs are taken of a snapshot of the
workspace's regular files (safefs: no link followed, bounded), so git never reads a tree the sandbox can write.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

IDENTITY = {"GIT_AUTHOR_NAME": "fixture", "GIT_AUTHOR_EMAIL": "fixture@beyond-vibes.invalid",
            "GIT_COMMITTER_NAME": "fixture", "GIT_COMMITTER_EMAIL": "fixture@beyond-vibes.invalid",
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
# -c settings that outrank the repository's own config file (which we write anyway)
LOCKED = ("core.hooksPath=/dev/null", "core.fsmonitor=false", "core.untrackedCache=false", "core.attributesFile=/dev/null",
          "core.excludesFile=/dev/null", "core.pager=cat", "core.symlinks=false", "safe.directory=*",
          "core.sshCommand=false", "protocol.allow=never", "submodule.recurse=false", "diff.noprefix=false",
          "diff.mnemonicPrefix=false", "diff.relative=false", "core.quotePath=true", "color.ui=false")
# every attribute with an effect on add/diff/apply, reset to "unspecified" for every path
NEUTRAL_ATTRIBUTES = "* !text !eol !crlf !filter !diff !merge !ident !working-tree-encoding !whitespace !binary\n"


class HarnessGit:
    """git on (git_dir, work_tree), both the harness's; `home` is an empty folder of ours."""

    def __init__(self, git_dir: Path, work_tree: Path, home: Path):
        self.git_dir, self.work_tree, self.home = Path(git_dir), Path(work_tree), Path(home)

    def env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home),
                "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.work_tree), "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", **IDENTITY}

    def __call__(self, *args: str, input: str | None = None, check: bool = True) -> str:
        argv = ["git", *[x for c in LOCKED for x in ("-c", c)], *args]
        done = subprocess.run(argv, cwd=self.work_tree, env=self.env(), input=input, capture_output=True, text=True,
                              timeout=120, stdin=None if input is not None else subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args[:3])} failed: {done.stderr.strip()[:500]}")
        return done.stdout

    def init(self) -> None:
        """A new repository whose own config and attributes file pin the same safe settings."""
        self.home.mkdir(parents=True, exist_ok=True)
        self("init", "-q", "-b", "main")
        info = self.git_dir / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "attributes").write_text(NEUTRAL_ATTRIBUTES)
        (info / "exclude").write_text("")
        for setting in LOCKED:
            key, _, value = setting.partition("=")
            if key != "safe.directory":
                self("config", key, value)
