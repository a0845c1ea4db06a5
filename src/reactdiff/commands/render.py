"""``reactdiff render``: a video of a speaker beside the K generated listener reactions."""

from __future__ import annotations

import argparse
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
    from reactdiff.render.rows import render_row

    config = resolve_config(RenderConfig, args)
    render_row(args.predictions, args.index, args.out, data=args.data, speaker_video=args.speaker_video,
               audio=args.audio, gif=args.gif, config=config)
    return 0
