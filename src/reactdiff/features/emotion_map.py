"""Documented mappings from what the public face models measure to the REACT streams they stand in
for. Everything here is an APPROXIMATION: the REACT organisers computed their emotion vectors and
FaceVerse coefficients with face models that are not public. Pure numpy; see docs/features.md.

- AUs (emotion columns 0-14): each FACS action unit is the maximum of the ARKit blendshapes whose
  Apple definition describes the same muscle movement, thresholded to 0/1 (:data:`AU_FROM_BLENDSHAPES`).
- Expression probabilities (columns 17-24): fer's 7 classes renamed to REACT's 8; fer has no
  Contempt, so Contempt is always 0 and the other seven still sum to 1 (:data:`REACT_FROM_FER`).
- Valence and arousal (columns 15-16): the expectation of per-class circumplex coordinates under
  the expression probabilities (:data:`VALENCE_AROUSAL`), which keeps them in [-1, 1].
- 3DMM (58): the 52 blendshape scores where FaceVerse has its 52 expression coefficients, then the
  head rotation (Euler, radians) and translation (metres): the FaceVerse order of fields, not its
  bases or units.
"""

from __future__ import annotations

import numpy as np

from reactdiff.constants import AU_NAMES, COEFFS_3DMM_DIM, EMOTION_DIM, EXPRESSION_NAMES
from reactdiff.features.expression import FER_CLASSES
from reactdiff.features.face import BLENDSHAPE_NAMES

#: AU -> (blendshapes combined by max, occurrence threshold on that max). The pairing matches the
#: ARKit blendshape descriptions (Apple, ARFaceAnchor.BlendShapeLocation) to the FACS action unit
#: definitions (Ekman, Friesen & Hager, 2002). Thresholds: 0.5 ("more than half of the shape's full
#: range") except where MediaPipe's scores rarely leave the low range for a clearly visible action
#: (AU6 cheek raiser, AU14 dimpler, AU17 chin raiser, AU25 lips part: 0.3), and AU26 jaw drop,
#: which must be a wider opening than the lips-part AU25. AU23 (lip tightener) has no ARKit shape of
#: its own; lips rolled in narrow the red of the lips the same way, so it uses mouthRoll*.
AU_FROM_BLENDSHAPES: dict[str, tuple[tuple[str, ...], float]] = {
    "AU1": (("browInnerUp",), 0.5),
    "AU2": (("browOuterUpLeft", "browOuterUpRight"), 0.5),
    "AU4": (("browDownLeft", "browDownRight"), 0.5),
    "AU6": (("cheekSquintLeft", "cheekSquintRight"), 0.3),
    "AU7": (("eyeSquintLeft", "eyeSquintRight"), 0.5),
    "AU9": (("noseSneerLeft", "noseSneerRight"), 0.5),
    "AU10": (("mouthUpperUpLeft", "mouthUpperUpRight"), 0.5),
    "AU12": (("mouthSmileLeft", "mouthSmileRight"), 0.5),
    "AU14": (("mouthDimpleLeft", "mouthDimpleRight"), 0.3),
    "AU15": (("mouthFrownLeft", "mouthFrownRight"), 0.5),
    "AU17": (("mouthShrugLower",), 0.3),
    "AU23": (("mouthRollLower", "mouthRollUpper"), 0.5),
    "AU24": (("mouthPressLeft", "mouthPressRight"), 0.5),
    "AU25": (("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight"), 0.3),
    "AU26": (("jawOpen",), 0.5),
}

#: REACT expression class <- fer class (None: fer has no such class, probability 0).
REACT_FROM_FER: dict[str, str | None] = {
    "Neutral": "neutral",
    "Happy": "happy",
    "Sad": "sad",
    "Surprise": "surprise",
    "Fear": "fear",
    "Disgust": "disgust",
    "Anger": "angry",
    "Contempt": None,
}

#: (valence, arousal) of each REACT class: our reading of where the category sits on Russell's
#: circumplex of affect (Russell, 1980, "A circumplex model of affect"): a design choice, not
#: measured values. Neutral is the origin; Contempt is listed for completeness (fer never gives it).
VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "Neutral": (0.0, 0.0),
    "Happy": (0.8, 0.5),
    "Sad": (-0.6, -0.4),
    "Surprise": (0.2, 0.8),
    "Fear": (-0.6, 0.7),
    "Disgust": (-0.7, 0.3),
    "Anger": (-0.6, 0.8),
    "Contempt": (-0.5, 0.2),
}


def blendshapes_to_aus(blendshapes: np.ndarray) -> np.ndarray:
    """(T, 52) blendshape scores -> (T, 15) AU occurrences (0/1) in REACT's AU order."""
    blendshapes = np.asarray(blendshapes, dtype=np.float32)
    index = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}
    aus = np.zeros((len(blendshapes), len(AU_NAMES)), dtype=np.float32)
    for column, au in enumerate(AU_NAMES):
        shapes, threshold = AU_FROM_BLENDSHAPES[au]
        intensity = blendshapes[:, [index[name] for name in shapes]].max(axis=1)
        aus[:, column] = intensity >= threshold
    return aus


def fer_to_react(fer_probabilities: np.ndarray) -> np.ndarray:
    """(T, 7) fer probabilities -> (T, 8) REACT expression probabilities (Contempt = 0)."""
    fer_probabilities = np.asarray(fer_probabilities, dtype=np.float32)
    react = np.zeros((len(fer_probabilities), len(EXPRESSION_NAMES)), dtype=np.float32)
    for column, name in enumerate(EXPRESSION_NAMES):
        source = REACT_FROM_FER[name]
        if source is not None:
            react[:, column] = fer_probabilities[:, FER_CLASSES.index(source)]
    # The TFLite softmax sums to 1 only up to float rounding; REACT rows are probability vectors.
    return react / np.maximum(react.sum(axis=1, keepdims=True), 1e-8)


def valence_arousal(expression_probabilities: np.ndarray) -> np.ndarray:
    """(T, 8) REACT expression probabilities -> (T, 2) valence, arousal in [-1, 1]."""
    coordinates = np.array([VALENCE_AROUSAL[name] for name in EXPRESSION_NAMES], dtype=np.float32)
    return np.clip(np.asarray(expression_probabilities, dtype=np.float32) @ coordinates, -1.0, 1.0)


def emotion_vector(blendshapes: np.ndarray, fer_probabilities: np.ndarray) -> np.ndarray:
    """(T, 25) approximate REACT emotion: 15 AUs, valence, arousal, 8 expression probabilities."""
    expression = fer_to_react(fer_probabilities)
    emotion = np.concatenate([blendshapes_to_aus(blendshapes), valence_arousal(expression), expression], axis=1)
    assert emotion.shape[1] == EMOTION_DIM
    return emotion


def coeffs_3dmm(blendshapes: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """(T, 58) approximate FaceVerse-ordered coefficients: 52 blendshapes, rotation, translation."""
    coeffs = np.concatenate([blendshapes, rotation, translation], axis=1).astype(np.float32)
    assert coeffs.shape[1] == COEFFS_3DMM_DIM
    return coeffs
