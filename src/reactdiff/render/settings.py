"""Settings of ``reactdiff render`` (one dataclass: defaults, CLI flags and config files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class RenderConfig:
    """How a reaction video is drawn. Every field is also a ``--field VALUE`` flag."""

    #: face2d (default, no assets), mesh (py-feat AU-to-mesh model, falls back to face2d when
    #: absent) or faceverse (needs ``faceverse_model``).
    renderer: Literal["face2d", "mesh", "faceverse"] = "face2d"
    #: Split of the dataset rows; None: the split recorded in the predictions file, else val.
    split: str | None = None
    #: Pixel size of each face panel (square).
    panel_size: int = 256
    #: Panels per grid row; None: up to six.
    columns: int | None = None
    #: With --data, also show the real listener of the row (their video, else their rendered face).
    real_listener: bool = True
    #: Render only the first N frames (handy for GIFs); None: all.
    max_frames: int | None = None
    #: H.264 constant rate factor: lower is better quality and bigger files.
    crf: int = 20
    #: The user's FaceVerse v2 model (faceverse_simple_v2.npy or .npz) for the faceverse renderer.
    faceverse_model: str | None = None
    #: REACT's mean_face.npy; None: <data>/mean_face.npy.
    mean_face: str | None = None
