"""The grid composer: the speaker beside K listener reactions, labelled, with a frame counter.

Panels are drawn chunk by chunk and the composed frames are yielded one at a time, so a
30-second grid of eleven faces is encoded as it is drawn instead of being held in memory
(eleven 750-frame 256x256 clips would be 1.6 GB).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from reactdiff.constants import FPS

#: A face renderer: (emotion (T, 25), coeffs_3dmm (T, 58) or None, size) -> uint8 (T, size, size, 3).
Renderer = Callable[..., np.ndarray]

LABEL_HEIGHT = 26
FOOTER_HEIGHT = 24
GAP = 4
BACKGROUND = (30, 32, 36)
TEXT = (236, 236, 236)
SPEAKER_TEXT = (255, 214, 120)


@dataclass
class Panel:
    """One cell of the grid: a label and a function giving its frames [start, stop)."""

    label: str
    frames: Callable[[int, int], np.ndarray]
    highlight: bool = False


def rendered_panel(
    label: str,
    render: Renderer,
    emotion: np.ndarray,
    coeffs_3dmm: np.ndarray | None = None,
    size: int = 256,
    context: int = 8,
    highlight: bool = False,
) -> Panel:
    """A panel that renders ``emotion`` (and 3DMM) on demand, chunk by chunk.

    Each chunk is rendered with ``context`` extra frames on both sides and then trimmed, so the
    renderer's temporal smoothing (a Gaussian of radius 6 frames) sees the same neighbours as a
    whole-clip render and the chunk seams are invisible.
    """
    num_frames = len(emotion)

    def frames(start: int, stop: int) -> np.ndarray:
        lo, hi = max(0, start - context), min(num_frames, stop + context)
        coeffs = None if coeffs_3dmm is None else coeffs_3dmm[lo:hi]
        return render(emotion[lo:hi], coeffs, size=size)[start - lo : stop - lo]

    return Panel(label, frames, highlight)


def footage_panel(label: str, footage: np.ndarray, highlight: bool = False) -> Panel:
    """A panel showing decoded video frames (T, S, S, 3); the last frame holds if it runs short."""

    def frames(start: int, stop: int) -> np.ndarray:
        index = np.minimum(np.arange(start, stop), len(footage) - 1)
        return footage[index]

    return Panel(label, frames, highlight)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def grid_layout(num_panels: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns): at most six columns, so speaker + 10 listeners fill two rows of six."""
    columns = columns or min(num_panels, 6)
    return math.ceil(num_panels / columns), columns


def compose_grid(
    panels: Sequence[Panel],
    num_frames: int,
    panel_size: int = 256,
    fps: int = FPS,
    columns: int | None = None,
    chunk: int = 100,
    title: str = "",
) -> Iterator[np.ndarray]:
    """Yield composed uint8 frames (H, W, 3): panels in a grid, each with its label on top, and a
    footer with the title, frame counter and time."""
    rows, columns = grid_layout(len(panels), columns)
    cell_h, cell_w = LABEL_HEIGHT + panel_size, panel_size
    width = columns * cell_w + (columns + 1) * GAP
    height = rows * (cell_h + GAP) + GAP + FOOTER_HEIGHT
    width, height = width + width % 2, height + height % 2  # H.264 wants even sizes

    # The static part (background and labels) is drawn once; only faces and the counter change.
    base = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(base)
    font = _font(max(10, LABEL_HEIGHT - 10))
    origins = []
    for index, panel in enumerate(panels):
        row, column = divmod(index, columns)
        x, y = GAP + column * (cell_w + GAP), GAP + row * (cell_h + GAP)
        draw.text((x + 4, y + 4), panel.label, fill=SPEAKER_TEXT if panel.highlight else TEXT, font=font)
        origins.append((x, y + LABEL_HEIGHT))
    base_array = np.asarray(base).copy()
    footer_font = _font(max(10, FOOTER_HEIGHT - 8))
    footer_y = height - FOOTER_HEIGHT

    for start in range(0, num_frames, chunk):
        stop = min(num_frames, start + chunk)
        chunk_frames = [panel.frames(start, stop) for panel in panels]
        for offset in range(stop - start):
            canvas = base_array.copy()
            for (x, y), frames in zip(origins, chunk_frames):
                canvas[y : y + panel_size, x : x + panel_size] = frames[offset]
            frame_index = start + offset
            footer = Image.new("RGB", (width, FOOTER_HEIGHT), BACKGROUND)
            counter = f"frame {frame_index + 1:>4}/{num_frames}   {frame_index / fps:6.2f} s"
            text = f"{title}   {counter}" if title else counter
            ImageDraw.Draw(footer).text((GAP + 4, 4), text, fill=TEXT, font=footer_font)
            canvas[footer_y:] = np.asarray(footer)
            yield canvas
