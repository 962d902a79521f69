#!/usr/bin/env bash
# Compile the environment's bytecode, reusing what an earlier install on this machine compiled for the same lock.
#
# Why compile at install at all: the sandbox mounts the environment read-only and some machines set
# PYTHONDONTWRITEBYTECODE, so a module not compiled here is compiled again by every interpreter that imports it
# (the suite ran 929 s instead of ~770 s). Compiling 22,000 modules takes ~20 s on 2 cores, on every fresh clone.
# uv installs by hard-linking its cache, so a clone's sources are the same files (same size and mtime) as the last
# clone's, and the .pyc files compiled for them are valid there too: they are kept under the cache, keyed by the lock
# and the interpreter, and hard-linked in. compileall then checks every .pyc against its source (timestamp-based, as
# Python does at import) and compiles only what does not match, so a stale or missing entry costs time, never a
# wrong module. Python replaces a .pyc by writing a new file and renaming it, so shared links are never written through.
# usage: deploy/bytecode.sh PYTHON LOCKFILE
set -euo pipefail
py=$1
lock=$2
site=$("$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
tag=$("$py" -c 'import sys; print(sys.implementation.cache_tag)')
key=$(sha256sum < "$lock" | cut -c1-16)
kept="${BEYOND_VIBES_CACHE:-$HOME/.cache/beyond-vibes}/bytecode/$tag-$key"
jobs=0  # every core, for a whole environment
if [ -d "$kept" ]; then
  cp -alf "$kept/." "$site/"
  jobs=1  # a check of every .pyc's header (~1 s): one process is faster than a pool for that
fi
# compiles only the modules whose .pyc is missing or does not match its source; a file that is not valid Python (a
# package's template or test data) is left uncompiled, as an installer's own compile step leaves it, not an error
"$py" -m compileall -q -j "$jobs" "$site" >/dev/null || true
if [ ! -d "$kept" ]; then
  staging="$kept.$$"
  mkdir -p "$staging"
  (cd "$site" && find . -path '*/__pycache__/*.pyc' -print0 | xargs -0 -r cp -l --parents -t "$staging")
  mv -T "$staging" "$kept" 2>/dev/null || rm -rf "$staging"  # another install kept it first: theirs is as good
fi
