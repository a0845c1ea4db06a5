"""Regenerate the pictures in docs/images/ used by docs/rendering.md.

    python scripts/make_doc_images.py            # writes docs/images/*.png and reaction.gif

Every image is drawn by the package's own renderers from hand-written emotion vectors, so the
documentation shows exactly what the code draws. The mesh stills are made only when py-feat is
installed (scripts/install_mesh_extra.sh).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from reactdiff.constants import EMOTION_COLUMNS
from reactdiff.render import mesh
from reactdiff.render.face2d import render_faces
from reactdiff.render.grid import compose_grid, rendered_panel
from reactdiff.render.video import write_gif

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"

#: The four expressions of the documentation, as REACT emotion columns (others 0).
EXPRESSIONS = {
    "neutral": {"Neutral": 1.0},
    "smile": {"AU6": 1, "AU12": 1, "AU25": 1, "Happy": 1.0, "Valence": 0.8, "Arousal": 0.4},
    "surprise": {"AU1": 1, "AU2": 1, "AU25": 1, "AU26": 1, "Surprise": 1.0, "Arousal": 0.8},
    "frown": {"AU4": 1, "AU15": 1, "AU17": 1, "Sad": 0.6, "Anger": 0.4, "Valence": -0.7},
}


def emotion_vector(values: dict[str, float]) -> np.ndarray:
    vector = np.zeros(len(EMOTION_COLUMNS))
    for name, value in values.items():
        vector[EMOTION_COLUMNS.index(name)] = value
    return vector


def keyframed(keys: list[tuple[int, str]], num_frames: int) -> np.ndarray:
    """An emotion sequence that holds each named expression from its frame on (AUs switch, the
    continuous columns ramp over 10 frames), like a short REACT clip."""
    sequence = np.zeros((num_frames, len(EMOTION_COLUMNS)))
    for (start, name), (stop, _) in zip(keys, keys[1:] + [(num_frames, "")]):
        sequence[start:stop] = emotion_vector(EXPRESSIONS[name])
    continuous = slice(15, None)
    kernel = np.ones(10) / 10
    for column in range(continuous.start, sequence.shape[1]):
        padded = np.pad(sequence[:, column], (9, 0), mode="edge")
        sequence[:, column] = np.convolve(padded, kernel, mode="valid")
    return sequence


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, values in EXPRESSIONS.items():
        frame = render_faces(np.tile(emotion_vector(values), (3, 1)), size=256)[1]
        Image.fromarray(frame).save(OUT / f"{name}.png", optimize=True)
    if mesh.mesh_available():
        stills = [mesh.render_mesh_faces(np.tile(emotion_vector(v), (3, 1)), size=192)[1] for v in EXPRESSIONS.values()]
        Image.fromarray(np.concatenate(stills, axis=1)).save(OUT / "mesh_expressions.png", optimize=True)

    # A 4-second grid: a speaker moving through the expressions, three listeners reacting with
    # different lags and a head turn, drawn chunk by chunk exactly as `reactdiff render` does.
    num_frames = 100
    speaker = keyframed([(0, "neutral"), (20, "smile"), (50, "surprise"), (75, "frown")], num_frames)
    listeners = [
        keyframed([(0, "neutral"), (30, "smile"), (65, "neutral")], num_frames),
        keyframed([(0, "neutral"), (40, "smile"), (60, "surprise")], num_frames),
        keyframed([(0, "neutral"), (55, "frown")], num_frames),
    ]
    pose = np.zeros((num_frames, 58))
    pose[:, 53] = 0.3 * np.sin(np.linspace(0, 2 * np.pi, num_frames))  # yaw: a slow head turn
    pose[:, 52] = 0.1 * np.sin(np.linspace(0, 4 * np.pi, num_frames))  # pitch: nodding
    panels = [rendered_panel("Speaker", render_faces, speaker, size=128, highlight=True)]
    panels += [
        rendered_panel(f"Listener {k + 1}", render_faces, listener, pose if k == 0 else None, size=128)
        for k, listener in enumerate(listeners)
    ]
    frames = np.stack(list(compose_grid(panels, num_frames, panel_size=128, title="docs example")))
    write_gif(OUT / "reaction.gif", frames[::2], fps=12.5, max_colours=64)  # every other frame
    Image.fromarray(frames[60]).save(OUT / "grid.png", optimize=True)
    total = sum(path.stat().st_size for path in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
