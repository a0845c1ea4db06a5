"""The face renderers by name, and the choice of one (with the mesh renderer's fallback)."""

from __future__ import annotations

from pathlib import Path

from reactdiff.errors import ConfigError
from reactdiff.render.grid import Renderer

RENDERER_NAMES = ("face2d", "mesh", "faceverse")


def get_renderer(name: str, faceverse_model: str | Path | None = None, mean_face: str | Path | None = None) -> Renderer:
    """A renderer callable ``(emotion (T, 25), coeffs_3dmm (T, 58) | None, size) -> uint8 frames``.

    ``mesh`` falls back to ``face2d`` with a one-line notice when py-feat is not installed;
    ``faceverse`` needs the user's FaceVerse model file and REACT's mean face (3DMM rows are stored
    and predicted mean-face subtracted).
    """
    if name == "face2d":
        from reactdiff.render.face2d import render_faces

        return render_faces
    if name == "mesh":
        from reactdiff.render import mesh

        if mesh.mesh_available():
            return mesh.render_mesh_faces
        mesh.notice_fallback()
        from reactdiff.render.face2d import render_faces

        return render_faces
    if name == "faceverse":
        if faceverse_model is None:
            raise ConfigError("the faceverse renderer needs the FaceVerse model file: set --faceverse_model PATH")
        if mean_face is None:
            # Predictions and stored 3DMM rows are mean-face subtracted; without the mean the
            # expression coefficients would be drawn around zero and look wrong.
            raise ConfigError("the faceverse renderer needs REACT's mean face: set --mean_face PATH (or --data ROOT)")
        from reactdiff.render.faceverse import FaceVerseRenderer

        return FaceVerseRenderer(faceverse_model, mean_face)
    raise ConfigError(f"unknown renderer {name!r}; choose one of {', '.join(RENDERER_NAMES)}")
