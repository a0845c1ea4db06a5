"""Face tracking with MediaPipe's face landmarker (Tasks API): per frame 478 landmarks, 52
ARKit-style blendshape scores and the facial transformation matrix (head pose).

The landmarker runs in VIDEO mode, so after the first detection it tracks the face from frame to
frame instead of re-detecting it (much cheaper). Its model file is installed and verified by
:mod:`reactdiff.features.models`; mediapipe itself is an optional extra
(``scripts/install_extras.sh``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.errors import FeatureError

#: The landmarker's 52 blendshape categories in output order (``_neutral`` + 51 ARKit shapes; ARKit's
#: ``tongueOut`` is absent). The ``blendshapes`` stream and the approximate 3DMM use this order.
BLENDSHAPE_NAMES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
NUM_BLENDSHAPES = len(BLENDSHAPE_NAMES)  # 52
NUM_LANDMARKS = 478


@dataclass(frozen=True)
class FaceObservation:
    """One tracked face in one frame."""

    blendshapes: np.ndarray  # (52,) scores in [0, 1], BLENDSHAPE_NAMES order
    rotation: np.ndarray  # (3,) Euler angles in radians: pitch (x), yaw (y), roll (z); R = Rz @ Ry @ Rx
    translation: np.ndarray  # (3,) metres, camera frame of MediaPipe's canonical face model
    landmarks: np.ndarray  # (478, 2) image coordinates normalised to [0, 1] (x right, y down)


def rotation_to_euler(matrix: np.ndarray) -> np.ndarray:
    """Euler angles (x, y, z) in radians of a 3x3 rotation, extrinsic xyz (R = Rz @ Ry @ Rx),
    the pitch-yaw-roll convention of FaceVerse/Deep3DFaceRecon-style 3DMM fitting."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(np.asarray(matrix, dtype=np.float64)).as_euler("xyz").astype(np.float32)


class FaceTracker:
    """MediaPipe face landmarker over a stream of RGB frames; use as a context manager (or call
    :meth:`close`) so the native graph is released."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        from reactdiff.features.models import locate

        path = locate("face_landmarker", model_path)
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:
            raise FeatureError(None, f"mediapipe is not installed ({exc}); run: bash scripts/install_extras.sh") from exc
        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,  # the listener/speaker clip shows one person; the most confident face wins
            min_face_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)

    def track(self, rgb: np.ndarray, timestamp_ms: int) -> FaceObservation | None:
        """The face in one RGB uint8 frame, or None; timestamps must increase from call to call."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self._landmarker.detect_for_video(image, int(timestamp_ms))
        if not result.face_landmarks or not result.face_blendshapes:
            return None
        categories = result.face_blendshapes[0]
        if len(categories) != NUM_BLENDSHAPES or categories[1].category_name != BLENDSHAPE_NAMES[1]:
            raise FeatureError(None, f"face landmarker returned {len(categories)} blendshapes in an unexpected order")
        blendshapes = np.array([c.score for c in categories], dtype=np.float32)
        matrix = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
        landmarks = np.array([(p.x, p.y) for p in result.face_landmarks[0]], dtype=np.float32)
        return FaceObservation(
            blendshapes=np.clip(blendshapes, 0.0, 1.0),
            rotation=rotation_to_euler(matrix[:3, :3]),
            # The canonical face model is in centimetres; metres keep the values near unit scale.
            translation=(matrix[:3, 3] / 100.0).astype(np.float32),
            landmarks=landmarks,
        )

    def close(self) -> None:
        """Release the native landmarker (idempotent)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
