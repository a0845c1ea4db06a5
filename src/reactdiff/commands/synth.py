"""``reactdiff synth OUT``: write a synthetic dyadic corpus in the REACT 2024 layout."""

from __future__ import annotations

import argparse

from reactdiff.config import add_config_args, resolve_config
from reactdiff.synth.settings import PRESET_PAIRS, SynthConfig


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic REACT-layout dataset (speakers, lagged one-to-many listener reactions)",
        description=(
            "Generate a synthetic dyadic corpus in the REACT 2024 layout: split lists, Emotion CSVs, "
            "3DMM .npy, audio .wav, mean_face.npy and neighbour (appropriateness) matrices; with --video "
            "also rendered mp4 clips. Presets (train/val/test pairs): "
            + ", ".join(f"{name} {'/'.join(map(str, pairs))}" for name, pairs in PRESET_PAIRS.items())
            + ". Re-running the same command resumes; the same seed gives identical bytes."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", help="output folder (the dataset root)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--video", action="store_true", default=argparse.SUPPRESS,
                        help="also render every clip's face to an mp4 with its audio (slow)")
    add_config_args(parser, SynthConfig, skip=("video",))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.synth.writer import write_dataset

    overrides = {"video": True} if getattr(args, "video", False) else {}
    config = resolve_config(SynthConfig, args, **overrides)
    counts = write_dataset(args.out, config, progress=not args.no_progress)
    summary = ", ".join(f"{split} {count}" for split, count in counts.items())
    print(f"wrote {args.out} (preset {config.preset}, seed {config.seed}; pairs: {summary})")
    return 0
