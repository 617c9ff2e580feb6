#!/usr/bin/env bash
# Builds the slim onedir PyInstaller bundle (dist/bentotui/) from bentotui.spec and prints its size
# and build time. Needs the venv from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build bentotui.spec
size=$(du -sm dist/bentotui | cut -f1)
echo "bundle: dist/bentotui  size: ${size} MB  build: $(( $(date +%s) - start )) s"
