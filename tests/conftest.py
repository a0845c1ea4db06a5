"""Fixtures shared by several test files."""

from pathlib import Path

import pytest

#: shared/ beside the repository (CI lays a copy there too).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def video_extras():
    """Skip (with the install command) unless MediaPipe, LiteRT and the model files are installed."""
    from reactdiff.errors import FeatureError
    from reactdiff.features import models

    pytest.importorskip("mediapipe", reason="video extras not installed: bash scripts/install_extras.sh")
    pytest.importorskip("ai_edge_litert", reason="video extras not installed: bash scripts/install_extras.sh")
    try:
        for name in models.MODEL_FILES:
            models.locate(name)
    except FeatureError as exc:
        pytest.skip(f"video model files not installed ({exc})")
