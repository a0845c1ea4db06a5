"""Figures of a reaction (matplotlib, no pyplot state: figures are built with the Agg canvas).

- ``au_raster``: which AUs are on in every frame: speaker, real listener, first generated reaction;
- ``valence_arousal``: valence and arousal of the K reactions against the speaker's and the real
  listener's;
- ``expressions``: expression probabilities of one reaction as a stacked area;
- ``diversity``: the K reactions overlaid (valence, arousal, AU activity), with their spread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from reactdiff.constants import AU_NAMES, AU_SLICE, EXPRESSION_NAMES, EXPRESSION_SLICE, FPS, VA_SLICE
from reactdiff.io import atomic_path

SPEAKER_COLOUR = "black"
REAL_LISTENER_COLOUR = "0.45"
EXPRESSION_COLOURS = ("#bdbdbd", "#f4b400", "#4a78c2", "#9c6ade", "#3fa796", "#7d9a3a", "#d9534f", "#a0522d")


def _save(figure: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight")
    return path


def _time_axis(num_frames: int, fps: float) -> np.ndarray:
    return np.arange(num_frames) / fps


def _reaction_colours(num_samples: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(k % 10) for k in range(num_samples)]


def au_raster(path: str | Path, reactions: np.ndarray, speaker: np.ndarray | None = None,
              real_listener: np.ndarray | None = None, sample: int = 0, fps: float = FPS) -> Path:
    """AU occurrence raster (AUs x frames) of reaction ``sample``, below the speaker's and the real
    listener's when given."""
    rows = [("Speaker", speaker)] if speaker is not None else []
    if real_listener is not None:
        rows.append(("Real listener", real_listener))
    rows.append((f"Generated reaction {sample + 1}", reactions[sample]))
    figure = Figure(figsize=(11, 2.6 * len(rows)), layout="constrained")
    axes = figure.subplots(len(rows), 1, squeeze=False)[:, 0]
    for axis, (title, emotion) in zip(axes, rows):
        occurrence = np.clip(emotion[:, AU_SLICE], 0.0, 1.0).T
        duration = len(emotion) / fps
        axis.imshow(occurrence, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
                    extent=(0, duration, len(AU_NAMES) - 0.5, -0.5))
        axis.set_yticks(range(len(AU_NAMES)), AU_NAMES, fontsize=7)
        axis.set_title(title, fontsize=9, loc="left")
    axes[-1].set_xlabel("time (s)")
    return _save(figure, Path(path))


def valence_arousal(path: str | Path, reactions: np.ndarray, speaker: np.ndarray | None = None,
                    real_listener: np.ndarray | None = None, fps: float = FPS) -> Path:
    """Valence and arousal curves of all K reactions (colours) against the speaker's (black) and the
    real listener's (grey, dashed)."""
    figure = Figure(figsize=(11, 5), layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    time = _time_axis(reactions.shape[1], fps)
    colours = _reaction_colours(len(reactions))
    for axis, column, name in zip(axes, range(VA_SLICE.start, VA_SLICE.stop), ("valence", "arousal")):
        for k, reaction in enumerate(reactions):
            axis.plot(time, reaction[:, column], color=colours[k], lw=1.0, alpha=0.85, label=f"reaction {k + 1}")
        if speaker is not None:
            axis.plot(time, speaker[: len(time), column], color=SPEAKER_COLOUR, lw=2.0, label="speaker")
        if real_listener is not None:
            axis.plot(time, real_listener[: len(time), column], color=REAL_LISTENER_COLOUR, lw=1.6, ls="--",
                      label="real listener")
        axis.set_ylabel(name)
        axis.set_ylim(-1.05, 1.05)
        axis.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    axes[0].legend(fontsize=7, ncol=6, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    return _save(figure, Path(path))


def expressions(path: str | Path, reaction: np.ndarray, title: str = "Generated reaction 1", fps: float = FPS) -> Path:
    """Expression probabilities of one reaction (T, 25) as a stacked area over time."""
    figure = Figure(figsize=(11, 3.2), layout="constrained")
    axis = figure.subplots()
    probabilities = np.clip(reaction[:, EXPRESSION_SLICE], 0.0, None).T
    axis.stackplot(_time_axis(reaction.shape[0], fps), probabilities, labels=EXPRESSION_NAMES, colors=EXPRESSION_COLOURS)
    axis.set_ylabel("probability")
    axis.set_xlabel("time (s)")
    axis.set_title(title, fontsize=9, loc="left")
    axis.legend(fontsize=7, ncol=8, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    return _save(figure, Path(path))


def diversity(path: str | Path, reactions: np.ndarray, speaker: np.ndarray | None = None, fps: float = FPS) -> Path:
    """The K reactions overlaid: valence, arousal and AU activity (share of AUs on), with the
    min-max band across reactions shaded, so one sees how different the K samples are."""
    figure = Figure(figsize=(11, 6.5), layout="constrained")
    axes = figure.subplots(3, 1, sharex=True)
    time = _time_axis(reactions.shape[1], fps)
    colours = _reaction_colours(len(reactions))
    signals = [
        ("valence", reactions[..., VA_SLICE.start], None if speaker is None else speaker[: len(time), VA_SLICE.start]),
        ("arousal", reactions[..., VA_SLICE.start + 1], None if speaker is None else speaker[: len(time), VA_SLICE.start + 1]),
        ("AU activity", np.clip(reactions[..., AU_SLICE], 0, 1).mean(-1),
         None if speaker is None else np.clip(speaker[: len(time), AU_SLICE], 0, 1).mean(-1)),
    ]
    for axis, (name, values, speaker_values) in zip(axes, signals):
        axis.fill_between(time, values.min(0), values.max(0), color="0.85", label="spread of the K reactions")
        for k, curve in enumerate(values):
            axis.plot(time, curve, color=colours[k], lw=0.9, alpha=0.9)
        if speaker_values is not None:
            axis.plot(time, speaker_values, color=SPEAKER_COLOUR, lw=1.2, label="speaker")
        axis.set_ylabel(name)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title(f"{len(reactions)} generated reactions overlaid", fontsize=9, loc="left")
    axes[-1].set_xlabel("time (s)")
    return _save(figure, Path(path))


def plot_reaction(out_dir: str | Path, reactions: np.ndarray, speaker: np.ndarray | None = None,
                  real_listener: np.ndarray | None = None, fps: float = FPS) -> list[Path]:
    """Write all four figures of one predictions row (K, T, 25) at ``fps`` into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    return [
        au_raster(out_dir / "au_raster.png", reactions, speaker, real_listener, fps=fps),
        valence_arousal(out_dir / "valence_arousal.png", reactions, speaker, real_listener, fps=fps),
        expressions(out_dir / "expressions.png", reactions[0], "Generated reaction 1", fps=fps),
        diversity(out_dir / "diversity.png", reactions, speaker, fps=fps),
    ]
