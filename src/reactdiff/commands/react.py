"""``reactdiff react SPEAKER_VIDEO --checkpoint CKPT --out DIR``: reactions to your own clip."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.react import ReactConfig

    parser = subparsers.add_parser(
        "react",
        help="generate listener reactions to your own speaker video (and audio)",
        description="Extract features from a speaker clip, generate K listener reactions with a trained "
        "checkpoint, write predictions.npz and a side-by-side video with the speaker's real video and sound.",
    )
    parser.add_argument("video", type=Path, help="speaker video (any container, any frame rate)")
    parser.add_argument("--audio", type=Path, default=None, help="speaker audio (default: the video's audio track)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="any method's final checkpoint (or its run folder)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    add_config_args(parser, ReactConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import resolve_config, save_config
    from reactdiff.react import ReactConfig, react

    config = resolve_config(ReactConfig, args).validate()
    paths = react(args.video, args.checkpoint, args.out, audio=args.audio, config=config)
    save_config(config, args.out / "react_config.json")
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
