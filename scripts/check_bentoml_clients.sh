#!/usr/bin/env bash
# BentoML's own clients (1.4's SyncHTTPClient/AsyncHTTPClient, 1.x Client.from_url) against real
# `bentotui serve` processes; exits non-zero on any failure.
# BENTOML_VENV=/path/to/venv reuses a venv with bentoml 1.4 installed; without it the test builds
# a throw-away one under its temporary folder with `pip install "bentoml==1.4.*"` (needs PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -q -p no:cacheprovider tests/compat/clients/test_bentoml_clients.py "$@"
