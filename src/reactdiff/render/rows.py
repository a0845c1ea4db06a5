"""One predictions row as a video or as figures: what ``reactdiff render`` and ``reactdiff plot``
(and the demo, ``react`` and the web page) call."""

from __future__ import annotations

import sys
from pathlib import Path

from reactdiff.constants import FPS
from reactdiff.errors import DataError
from reactdiff.render.settings import RenderConfig


def render_row(predictions: str | Path, index: int, out: str | Path | None = None, *, data: str | Path | None = None,
               speaker_video: str | Path | None = None, audio: str | Path | None = None, gif: bool = False,
               config: RenderConfig | None = None) -> Path:
    """Draw row ``index`` of a predictions file as a grid video (speaker, real listener, the K
    generated reactions) with the speaker's audio; returns the video's path."""
    from reactdiff.config import save_config
    from reactdiff.render.grid import compose_grid, footage_panel, rendered_panel
    from reactdiff.render.inputs import clip_from_dataset, load_prediction_row
    from reactdiff.render.renderers import get_renderer
    from reactdiff.render.video import read_video_frames, write_video

    config = config or RenderConfig()
    predictions = Path(predictions)
    data = Path(data) if data is not None else None
    speaker_video = Path(speaker_video) if speaker_video is not None else None
    audio_file = Path(audio) if audio is not None else None
    if data is None and speaker_video is None:
        raise DataError(None, "give --data ROOT (the dataset holding the speaker clip) or --speaker-video PATH")
    row = load_prediction_row(predictions, index)
    num_frames = row.emotion.shape[1]
    if config.max_frames is not None:
        num_frames = min(num_frames, config.max_frames)
    split = config.split or row.split or "val"
    out = Path(out) if out is not None else Path(f"reaction_{row.index}.{'gif' if gif else 'mp4'}")
    if gif and out.suffix.lower() != ".gif":
        out = out.with_suffix(".gif")
    mean_face = config.mean_face or (str(data / "mean_face.npy") if data else None)
    render = get_renderer(config.renderer, config.faceverse_model, mean_face)
    size = config.panel_size

    # The speaker (and the real listener): real footage when available, else their own
    # emotion/3DMM drawn with the same renderer as the generated reactions.
    speaker = None
    panels = []
    if data is not None:
        speaker = clip_from_dataset(data, split, row.speaker_path, num_frames, config.mean_face)
    # The dataset's frame rate (REACT 2024: 25 fps, MARS: 30), else the one generation recorded.
    fps = speaker.fps if speaker is not None else row.fps or FPS
    video_path = speaker_video or (speaker.video if speaker else None)
    if video_path is not None:
        footage = read_video_frames(video_path, fps=fps, size=(size, size), max_frames=num_frames)
        panels.append(footage_panel("Speaker (video)", footage, highlight=True))
    else:
        panels.append(_clip_panel("Speaker", speaker, render, config, size, highlight=True))
    if data is not None and config.real_listener:
        listener = clip_from_dataset(data, split, row.listener_path, num_frames, config.mean_face)
        if listener.video is not None:
            footage = read_video_frames(listener.video, fps=fps, size=(size, size), max_frames=num_frames)
            panels.append(footage_panel("Real listener (video)", footage, highlight=True))
        else:
            panels.append(_clip_panel("Real listener", listener, render, config, size, highlight=True))

    listener_coeffs = row.coeffs_3dmm
    if config.renderer == "faceverse" and listener_coeffs is None:
        raise DataError(predictions, "the faceverse renderer needs 'coeffs_3dmm' in the predictions file")
    num_shown = len(panels)
    panels += [
        rendered_panel(f"Generated {k + 1}", render, row.emotion[k, :num_frames],
                       None if listener_coeffs is None else listener_coeffs[k, :num_frames], size)
        for k in range(row.emotion.shape[0])
    ]

    sound = None
    audio_path = audio_file or (speaker.audio if speaker else None) or speaker_video
    if audio_path is not None and not gif:
        sound = _load_audio(audio_path, quiet_if_missing=audio_path == speaker_video)
    title = f"{split} row {row.index}: {row.speaker_path}" if speaker_video is None else f"{speaker_video.name}"
    frames = compose_grid(panels, num_frames, panel_size=size, columns=config.columns, title=title, fps=fps)
    if gif:
        write_video(out, frames, fps=fps)
    else:
        write_video(out, frames, fps=fps, audio=sound, crf=config.crf)
    save_config(config, out.with_name(out.stem + ".render.json"))
    with_sound = "" if sound is None else f" with audio from {audio_path}"
    print(f"wrote {out} ({num_frames} frames, {num_shown} real + {len(panels) - num_shown} generated panels, "
          f"renderer {config.renderer}){with_sound}")
    return out


def plot_row(predictions: str | Path, index: int, out: str | Path, *, data: str | Path | None = None,
             split: str | None = None) -> list[Path]:
    """PNG figures of row ``index`` (AU raster, valence/arousal, expressions, diversity), with the
    speaker's and the real listener's curves when ``data`` is given; returns the files written."""
    from reactdiff.render.inputs import load_prediction_row
    from reactdiff.render.plots import plot_reaction

    row = load_prediction_row(Path(predictions), index)
    speaker = real_listener = None
    fps = row.fps or FPS
    if data is not None:
        from reactdiff.data.layouts import open_layout

        layout, split, num_frames = open_layout(data), split or row.split or "val", row.emotion.shape[1]
        speaker = layout.load_emotion(split, row.speaker_path)[:num_frames]
        real_listener = layout.load_emotion(split, row.listener_path)[:num_frames]
        fps = layout.fps
    return plot_reaction(Path(out), row.emotion, speaker, real_listener, fps=fps)


def _load_audio(path: Path, quiet_if_missing: bool):
    """The speaker audio as (mono samples, 16 kHz); a speaker video without sound gives None."""
    from reactdiff.features.audio import load_audio

    try:
        return load_audio(path, sample_rate=16000)
    except DataError as exc:
        if not quiet_if_missing:
            raise
        print(f"reactdiff render: no audio muxed ({exc})", file=sys.stderr)
        return None


def _clip_panel(label: str, clip, render, config: RenderConfig, size: int, highlight: bool):
    """A dataset clip drawn from its emotion (and 3DMM), for clips without video."""
    from reactdiff.render.grid import rendered_panel

    if config.renderer == "faceverse" and clip.coeffs_3dmm is None:
        raise DataError(None, f"the faceverse renderer needs the 3DMM file and the mean face for the {label.lower()}")
    return rendered_panel(label, render, clip.emotion, clip.coeffs_3dmm, size, highlight=highlight)
