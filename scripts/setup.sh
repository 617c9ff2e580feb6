#!/usr/bin/env bash
# Creates .venv (if missing) and installs bentotui with everything its tests need.
# ci/constraints.txt pins torch to the CPU build (an unpinned torch resolves to a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c ci/constraints.txt -e '.[torch,hf,safe,k8s,bundle,dev]'
.venv/bin/python -c 'import bentotui, torch, transformers, textual' >/dev/null
