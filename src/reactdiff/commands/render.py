"""``reactdiff render``: a video of a speaker beside the K generated listener reactions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reactdiff.config import add_config_args, resolve_config
from reactdiff.render.settings import RenderConfig


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a speaker beside the K generated listener reactions of one predictions row (mp4/gif)",
        description=(
            "Draw row --index of a predictions file as a grid video: the speaker (their real video when the "
            "dataset has it, else their own rendered face) and the real listener beside the K generated "
            "reactions, labelled, with a frame counter and the speaker's audio (H.264 + AAC). Use "
            "--speaker-video for your own clip without a dataset."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--predictions", required=True, type=Path, help="predictions .npz (reactdiff generate)")
    parser.add_argument("--data", type=Path, default=None, help="REACT-layout dataset root holding the speaker clip")
    parser.add_argument("--index", required=True, type=int, help="row of the predictions file")
    parser.add_argument("--out", type=Path, default=None, help="output video (default: reaction_<index>.mp4, or .gif)")
    parser.add_argument("--gif", action="store_true", help="write an animated GIF (no audio) instead of an mp4")
    parser.add_argument("--speaker-video", type=Path, default=None, help="the speaker's own video (overrides the dataset's)")
    parser.add_argument("--audio", type=Path, default=None, help="audio to mux (default: the speaker clip's audio)")
    add_config_args(parser, RenderConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import save_config
    from reactdiff.errors import DataError
    from reactdiff.render.grid import compose_grid, footage_panel, rendered_panel
    from reactdiff.render.inputs import clip_from_dataset, load_prediction_row
    from reactdiff.render.renderers import get_renderer
    from reactdiff.render.video import read_video_frames, write_video

    config = resolve_config(RenderConfig, args)
    if args.data is None and args.speaker_video is None:
        raise DataError(None, "give --data ROOT (the dataset holding the speaker clip) or --speaker-video PATH")
    row = load_prediction_row(args.predictions, args.index)
    num_frames = row.emotion.shape[1]
    if config.max_frames is not None:
        num_frames = min(num_frames, config.max_frames)
    split = config.split or row.split or "val"
    out = args.out or Path(f"reaction_{row.index}.{'gif' if args.gif else 'mp4'}")
    if args.gif and out.suffix.lower() != ".gif":
        out = out.with_suffix(".gif")
    mean_face = config.mean_face or (str(args.data / "mean_face.npy") if args.data else None)
    render = get_renderer(config.renderer, config.faceverse_model, mean_face)
    size = config.panel_size

    # The speaker (and the real listener): real footage when available, else their own
    # emotion/3DMM drawn with the same renderer as the generated reactions.
    speaker = None
    panels = []
    if args.data is not None:
        speaker = clip_from_dataset(args.data, split, row.speaker_path, num_frames, config.mean_face)
    video_path = args.speaker_video or (speaker.video if speaker else None)
    if video_path is not None:
        footage = read_video_frames(video_path, size=(size, size), max_frames=num_frames)
        panels.append(footage_panel("Speaker (video)", footage, highlight=True))
    else:
        panels.append(_clip_panel("Speaker", speaker, render, config, size, highlight=True))
    if args.data is not None and config.real_listener:
        listener = clip_from_dataset(args.data, split, row.listener_path, num_frames, config.mean_face)
        if listener.video is not None:
            footage = read_video_frames(listener.video, size=(size, size), max_frames=num_frames)
            panels.append(footage_panel("Real listener (video)", footage, highlight=True))
        else:
            panels.append(_clip_panel("Real listener", listener, render, config, size, highlight=True))

    listener_coeffs = row.coeffs_3dmm
    if config.renderer == "faceverse" and listener_coeffs is None:
        raise DataError(args.predictions, "the faceverse renderer needs 'coeffs_3dmm' in the predictions file")
    num_shown = len(panels)
    panels += [
        rendered_panel(f"Generated {k + 1}", render, row.emotion[k, :num_frames],
                       None if listener_coeffs is None else listener_coeffs[k, :num_frames], size)
        for k in range(row.emotion.shape[0])
    ]

    audio = None
    audio_path = args.audio or (speaker.audio if speaker else None) or args.speaker_video
    if audio_path is not None and not args.gif:
        audio = _load_audio(audio_path, quiet_if_missing=audio_path == args.speaker_video)
    title = f"{split} row {row.index}: {row.speaker_path}" if args.speaker_video is None else f"{args.speaker_video.name}"
    frames = compose_grid(panels, num_frames, panel_size=size, columns=config.columns, title=title)
    if args.gif:
        write_video(out, frames)
    else:
        write_video(out, frames, audio=audio, crf=config.crf)
    save_config(config, out.with_name(out.stem + ".render.json"))
    sound = "" if audio is None else f" with audio from {audio_path}"
    print(f"wrote {out} ({num_frames} frames, {num_shown} real + {len(panels) - num_shown} generated panels, "
          f"renderer {config.renderer}){sound}")
    return 0


def _load_audio(path: Path, quiet_if_missing: bool):
    """The speaker audio as (mono samples, 16 kHz); a speaker video without sound gives None."""
    from reactdiff.errors import DataError
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
    from reactdiff.errors import DataError
    from reactdiff.render.grid import rendered_panel

    if config.renderer == "faceverse" and clip.coeffs_3dmm is None:
        raise DataError(None, f"the faceverse renderer needs the 3DMM file and the mean face for the {label.lower()}")
    return rendered_panel(label, render, clip.emotion, clip.coeffs_3dmm, size, highlight=highlight)
