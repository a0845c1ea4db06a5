"""Small geometry helpers shared by the renderers: head rotation and temporal smoothing."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from reactdiff.constants import AU_SLICE, COEFFS_3DMM_DIM, EMOTION_DIM, ROTATION_SLICE


def euler_to_matrix(angles: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) from FaceVerse Euler angles (T, 3) = (pitch x, yaw y, roll z).

    FaceVerse composes ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` and applies it to column vectors;
    we keep that order so a head pose means the same thing in every renderer.
    """
    angles = np.asarray(angles, dtype=np.float64)
    cx, cy, cz = np.cos(angles).T
    sx, sy, sz = np.sin(angles).T
    zeros, ones = np.zeros_like(cx), np.ones_like(cx)
    rot_x = np.stack([ones, zeros, zeros, zeros, cx, -sx, zeros, sx, cx], -1).reshape(-1, 3, 3)
    rot_y = np.stack([cy, zeros, sy, zeros, ones, zeros, -sy, zeros, cy], -1).reshape(-1, 3, 3)
    rot_z = np.stack([cz, -sz, zeros, sz, cz, zeros, zeros, zeros, ones], -1).reshape(-1, 3, 3)
    return rot_z @ rot_y @ rot_x


def head_angles(coeffs_3dmm: np.ndarray | None, num_frames: int, limit: float = 0.7) -> np.ndarray:
    """Head rotation (T, 3) in radians from 3DMM columns 52-54, zeros when no 3DMM is given.

    The columns are mean-face subtracted, i.e. deviations from the average pose; they are clipped
    to +-``limit`` so a wild prediction turns the head without flipping the face inside out.
    """
    if coeffs_3dmm is None:
        return np.zeros((num_frames, 3))
    return np.clip(np.asarray(coeffs_3dmm, dtype=np.float64)[:, ROTATION_SLICE], -limit, limit)


def check_inputs(emotion: np.ndarray, coeffs_3dmm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate renderer inputs: (T, 25) emotion and optional (T, 58) 3DMM, finite, same T."""
    emotion = np.asarray(emotion, dtype=np.float64)
    if emotion.ndim != 2 or emotion.shape[1] != EMOTION_DIM or emotion.shape[0] == 0:
        raise ValueError(f"emotion must have shape (T, {EMOTION_DIM}) with T >= 1, got {emotion.shape}")
    if not np.isfinite(emotion).all():
        raise ValueError("emotion contains NaN/inf values")
    if coeffs_3dmm is not None:
        coeffs_3dmm = np.asarray(coeffs_3dmm, dtype=np.float64)
        if coeffs_3dmm.shape != (emotion.shape[0], COEFFS_3DMM_DIM):
            raise ValueError(
                f"coeffs_3dmm must have shape ({emotion.shape[0]}, {COEFFS_3DMM_DIM}) to match emotion, "
                f"got {coeffs_3dmm.shape}"
            )
        if not np.isfinite(coeffs_3dmm).all():
            raise ValueError("coeffs_3dmm contains NaN/inf values")
    return emotion, coeffs_3dmm


def smooth_emotion(emotion: np.ndarray, au_sigma: float = 1.5, other_sigma: float = 1.0) -> np.ndarray:
    """Lightly smooth an emotion sequence over time so binary AUs do not make faces flicker.

    AU occurrences are 0/1 per frame; a Gaussian of ~1.5 frames (60 ms) turns a switch into a
    three-frame ease, which reads as motion rather than a jump, without blurring real timing.
    """
    smoothed = np.array(emotion, dtype=np.float64)
    if smoothed.shape[0] < 2:
        return smoothed
    smoothed[:, AU_SLICE] = gaussian_filter1d(smoothed[:, AU_SLICE], au_sigma, axis=0, mode="nearest")
    rest = slice(AU_SLICE.stop, None)
    smoothed[:, rest] = gaussian_filter1d(smoothed[:, rest], other_sigma, axis=0, mode="nearest")
    return smoothed
