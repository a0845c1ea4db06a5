"""The one stream registry: every feature stream the package knows, with its width, its kind (the
Multi-Modality Transformer's visual/audio classes) and where it is computed from.

- ``dataset``: read from the REACT release's own files (Emotion CSVs, 3DMM .npy);
- ``audio``: computed from a clip's audio by :mod:`reactdiff.features.audio`;
- ``extras``: REACT 2026 (MARS) side streams read from the dataset's CSVs (EEG, personality);
- ``video``: computed from a clip's video by :mod:`reactdiff.features.extract` (``emotion`` and
  ``3dmm`` computed from video are approximations of the dataset streams of the same names).

``prepare`` (datasets), ``extract`` (own clips), the models and ``describe`` all read widths and
kinds from here. This module imports nothing from ``data`` or ``features``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM

KINDS = ("visual", "audio", "other")
#: Number of MediaPipe blendshape scores (``reactdiff.features.face.BLENDSHAPE_NAMES``).
NUM_BLENDSHAPES = 52


@dataclass(frozen=True)
class StreamInfo:
    """What a stream holds. ``kind`` groups streams for the Multi-Modality Transformer (visual or
    audio class); ``approximate`` marks streams that stand in for a REACT stream (e.g. an emotion
    vector estimated from MediaPipe blendshapes rather than the organisers' face models)."""

    name: str
    dim: int
    kind: str = "other"
    source: str = ""
    approximate: bool = False
    description: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"stream {self.name}: kind must be one of {KINDS}, got {self.kind!r}")


#: Streams read from a REACT dataset's own files.
DATASET_STREAMS = {
    "emotion": StreamInfo(
        "emotion", EMOTION_DIM, kind="visual", source="Emotion CSV",
        description="15 AU occurrences, valence, arousal, 8 expression probabilities",
    ),
    "3dmm": StreamInfo(
        "3dmm", COEFFS_3DMM_DIM, kind="visual", source="3D_FV_files minus mean face",
        description="FaceVerse v2: 52 expression, 3 rotation, 3 translation coefficients",
    ),
}

#: Streams computed from audio (functions in ``reactdiff.features.audio.AUDIO_STREAMS``).
AUDIO_STREAMS = {
    "mfcc": StreamInfo("mfcc", 26, kind="audio", source="audio", description="26 MFCCs per 40 ms video frame (ReactDiff's)"),
    "mfcc78": StreamInfo("mfcc78", 78, kind="audio", source="audio", description="13 MFCCs + deltas + delta-deltas per frame"),
    "mfcc39": StreamInfo(
        "mfcc39", 39, kind="audio", source="audio",
        description="13 MFCCs + deltas + delta-deltas of one 25 ms window per 30 fps frame (REACT 2025 baselines' MFCC)",
    ),
    "voice": StreamInfo("voice", 1, kind="audio", source="audio", description="voice activity probability (silero-vad)"),
    "prosody": StreamInfo("prosody", 3, kind="audio", source="audio", description="pitch, voicing, loudness"),
}

#: REACT 2026 side streams read from a MARS dataset's CSVs (see reactdiff.data.mars_extras).
#: Per-frame EEG is step-constant over each second (row floor(t / 30)); personality is one row per
#: clip, stored as a (1, 5) array.
EXTRA_STREAMS = {
    "eeg": StreamInfo(
        "eeg", 14, kind="other", source="eeg_processed CSV",
        description="TP9, AF7, AF8, TP10 (raw / 1000), then Delta..Gamma band powers of TP9 and TP10, per frame",
    ),
    "eeg_mask": StreamInfo(
        "eeg_mask", 14, kind="other", source="eeg_processed CSV",
        description="1 where the eeg value was read, 0 where the cell was blank, non-numeric or the file missing",
    ),
    "personality": StreamInfo(
        "personality", 5, kind="other", source="personality CSV",
        description="Big Five [E, A, C, N, O] mapped (x - 1) / 4; one row per clip, not per frame",
    ),
}

#: Streams computed from video (one MediaPipe face-landmarker pass + the fer expression model).
VIDEO_STREAMS = {
    "blendshapes": StreamInfo(
        "blendshapes", NUM_BLENDSHAPES, kind="visual", source="MediaPipe face landmarker",
        description="52 ARKit-style blendshape scores in [0, 1] (reactdiff.features.face.BLENDSHAPE_NAMES order)",
    ),
    "head_pose": StreamInfo(
        "head_pose", 6, kind="visual", source="MediaPipe face landmarker",
        description="rotation as Euler angles pitch, yaw, roll in radians (R = Rz Ry Rx), translation in metres",
    ),
    "face_present": StreamInfo(
        "face_present", 1, kind="other", source="MediaPipe face landmarker",
        description="1 where a face was detected; 0 where the face was carried over a gap or relaxed to neutral",
    ),
    "emotion": StreamInfo(
        "emotion", EMOTION_DIM, kind="visual", source="MediaPipe blendshapes (AUs) + fer expression CNN (expression, valence/arousal)",
        approximate=True,
        description="APPROXIMATE REACT emotion: AUs thresholded from blendshapes, fer's 7 classes as REACT's 8 "
        "(Contempt always 0), valence/arousal from expression probabilities; see docs/features.md",
    ),
    "3dmm": StreamInfo(
        "3dmm", COEFFS_3DMM_DIM, kind="visual", source="MediaPipe face landmarker",
        approximate=True,
        description="APPROXIMATE FaceVerse layout: 52 blendshape scores in place of FaceVerse expression "
        "coefficients, rotation (rad), translation (m); not FaceVerse bases, not mean-face subtracted",
    ),
}

#: Every stream by name, as a model sees it (dataset streams win over their video approximations).
STREAMS = {**VIDEO_STREAMS, **AUDIO_STREAMS, **EXTRA_STREAMS, **DATASET_STREAMS}

#: What ``reactdiff prepare`` computes for a dataset by default: the REACT targets and ReactDiff's MFCC.
PREPARE_STREAMS = ("emotion", "3dmm", "mfcc")
#: What ``reactdiff extract`` computes for an own clip by default: every video stream and the MFCC.
EXTRACT_STREAMS = tuple(VIDEO_STREAMS) + ("mfcc",)
