"""Optional FaceVerse v2 mesh renderer (numpy + Pillow, no pytorch3d) for users who hold the model.

The FaceVerse model file is licence-gated and never shipped or downloaded. Users point
``--faceverse_model`` at their ``faceverse_simple_v2.npy`` (or an ``.npz`` with the same arrays)
and ``--mean_face`` at REACT's ``mean_face.npy``. The file is a dict whose arrays we use:

- ``meanshape``: the mean identity, 3V numbers (any of (3V,), (1, 3V), (V, 3)), x y z interleaved;
- ``exBase``: (3V, E >= 52) expression basis; REACT's 52 expression coefficients weight its first
  52 columns;
- ``tri``: (F, 3) triangle vertex indices (0- or 1-based; detected);
- ``meantex`` (optional): 3V mean albedo in 0-255, averaged per triangle for the flat colour.

Identity stays at the mean (REACT predicts no identity coefficients). Vertices are
``meanshape + exBase[:, :52] @ expression``, rotated by ``R = Rz Ry Rx`` of columns 52-54 (x pitch,
y yaw, z roll; FaceVerse's convention), with y up and z towards the viewer; the translation columns
are ignored so the face stays centred in its panel.

FaceVerse ships its model as a pickled numpy dict. Loading a pickle runs code, so ``.npy`` files
are read with an unpickler that only rebuilds numpy arrays, lists and dicts and refuses anything
else.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from reactdiff.constants import COEFFS_3DMM_DIM, EXPRESSION_COEFFS_SLICE, ROTATION_SLICE
from reactdiff.errors import DataError
from reactdiff.render.geometry import check_inputs, euler_to_matrix
from reactdiff.render.raster import draw_mesh_frames, fit_to_canvas, orient_outwards

NUM_EXPRESSION_COEFFS = EXPRESSION_COEFFS_SLICE.stop - EXPRESSION_COEFFS_SLICE.start
SKIN = np.array([232.0, 196.0, 170.0])
#: Frames posed at once: bounds memory for dense meshes (30k vertices x 64 frames ~ 46 MB).
FRAMES_PER_BATCH = 64

# The only globals a pickled dict of numpy arrays needs (numpy 1.x and 2.x module names).
_ALLOWED_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype")}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and builtin containers only (no code execution)."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays are allowed)")


def _load_pickled_npy(path: Path) -> dict:
    """Read a ``np.save``-d dict (an object array) without trusting its pickle."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        if not dtype.hasobject:
            raise DataError(path, "expected a saved dict of arrays (FaceVerse model), found a plain array")
        payload = _ArraysOnlyUnpickler(handle).load()
    content = payload.item() if isinstance(payload, np.ndarray) and payload.size == 1 else payload
    if not isinstance(content, dict):
        raise DataError(path, f"expected a dict of arrays, found {type(content).__name__}")
    return content


class FaceVerseModel:
    """The parts of a FaceVerse v2 model needed to pose and draw the mean identity."""

    def __init__(self, meanshape: np.ndarray, expression_basis: np.ndarray, triangles: np.ndarray, vertex_colours: np.ndarray | None = None):
        self.meanshape = meanshape  # (V, 3)
        self.expression_basis = expression_basis  # (V, 3, 52)
        self.triangles = orient_outwards(meanshape, triangles)
        colours = SKIN if vertex_colours is None else vertex_colours
        self.triangle_colours = np.broadcast_to(colours, meanshape.shape)[self.triangles].mean(axis=1)

    @classmethod
    def load(cls, path: str | Path) -> "FaceVerseModel":
        """Read ``faceverse_simple_v2.npy`` (safe unpickling) or an ``.npz`` with the same arrays."""
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "FaceVerse model file not found")
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as data:
                    content = {key: data[key] for key in data.files}
            else:
                content = _load_pickled_npy(path)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            raise DataError(path, f"not a readable FaceVerse model ({exc})") from exc
        missing = [key for key in ("meanshape", "exBase", "tri") if key not in content]
        if missing:
            raise DataError(path, f"missing FaceVerse array(s) {missing} (has: {sorted(content)})")
        meanshape = np.asarray(content["meanshape"], dtype=np.float64).reshape(-1, 3)
        num_vertices = len(meanshape)
        expression_basis = np.asarray(content["exBase"], dtype=np.float64)
        if expression_basis.ndim != 2 or expression_basis.shape[0] != 3 * num_vertices or expression_basis.shape[1] < NUM_EXPRESSION_COEFFS:
            raise DataError(path, f"'exBase' must be (3V, >= {NUM_EXPRESSION_COEFFS}) with V = {num_vertices}, got {expression_basis.shape}")
        expression_basis = expression_basis[:, :NUM_EXPRESSION_COEFFS].reshape(num_vertices, 3, NUM_EXPRESSION_COEFFS)
        triangles = np.asarray(content["tri"], dtype=np.int64).reshape(-1, 3)
        if triangles.min() == 1 and triangles.max() == num_vertices:
            triangles = triangles - 1  # MATLAB-style 1-based indices
        if triangles.min() < 0 or triangles.max() >= num_vertices:
            raise DataError(path, f"'tri' indexes vertices {triangles.min()}..{triangles.max()} but there are {num_vertices}")
        vertex_colours = None
        if "meantex" in content and np.asarray(content["meantex"]).size == 3 * num_vertices:
            vertex_colours = np.clip(np.asarray(content["meantex"], dtype=np.float64).reshape(-1, 3), 0, 255)
        return cls(meanshape, expression_basis, triangles, vertex_colours)

    def vertices(self, expression: np.ndarray) -> np.ndarray:
        """Mean-identity vertices (T, V, 3) for (T, 52) absolute expression coefficients."""
        return self.meanshape + np.einsum("vce,te->tvc", self.expression_basis, expression)


def load_mean_face(path: str | Path) -> np.ndarray:
    """REACT's ``mean_face.npy`` (58,) (also accepted: any shape with 58 numbers)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "mean face file not found")
    try:
        mean_face = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"not a readable .npy array ({exc})") from exc
    if mean_face.size != COEFFS_3DMM_DIM:
        raise DataError(path, f"mean face must hold {COEFFS_3DMM_DIM} numbers, got shape {mean_face.shape}")
    return mean_face.reshape(COEFFS_3DMM_DIM).astype(np.float64)


class FaceVerseRenderer:
    """Renderer callable ``(emotion, coeffs_3dmm, size) -> frames`` for a user's FaceVerse model.

    ``coeffs_3dmm`` are mean-face subtracted (as REACT stores them): the mean face is added back
    before posing. Emotion is not used: the 3DMM coefficients carry the expression.
    """

    def __init__(self, model_path: str | Path, mean_face_path: str | Path | None = None):
        self.model = FaceVerseModel.load(model_path)
        self.mean_face = np.zeros(COEFFS_3DMM_DIM) if mean_face_path is None else load_mean_face(mean_face_path)

    def __call__(self, emotion: np.ndarray, coeffs_3dmm: np.ndarray | None = None, size: int = 256) -> np.ndarray:
        emotion, coeffs_3dmm = check_inputs(emotion, coeffs_3dmm)
        if coeffs_3dmm is None:
            raise ValueError("the FaceVerse renderer needs 3DMM coefficients (T, 58)")
        coeffs = coeffs_3dmm + self.mean_face
        meanshape = self.model.meanshape
        centre = (meanshape.max(axis=0) + meanshape.min(axis=0)) / 2.0
        frames = []
        for start in range(0, len(coeffs), FRAMES_PER_BATCH):
            batch = coeffs[start : start + FRAMES_PER_BATCH]
            vertices = self.model.vertices(batch[:, EXPRESSION_COEFFS_SLICE])
            rotation = euler_to_matrix(batch[:, ROTATION_SLICE])
            posed = np.einsum("tij,tvj->tvi", rotation, vertices - centre)
            pixels = fit_to_canvas(posed, meanshape - centre, size, fill=0.8)
            frames.append(draw_mesh_frames(pixels, self.model.triangles, self.model.triangle_colours, size))
        return np.concatenate(frames)
