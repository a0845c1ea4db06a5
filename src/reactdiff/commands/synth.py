"""``reactdiff synth OUT``: write a synthetic dyadic corpus in the REACT 2024 or MARS layout."""

from __future__ import annotations

import argparse

from reactdiff.config import add_config_args, resolve_config
from reactdiff.synth.settings import MARS_PRESETS, PRESET_PAIRS, SynthConfig

#: On/off settings given as plain flags (``--video``) rather than ``--video true``.
SWITCHES = {
    "video": "also render every clip's face to an mp4 with its audio (slow)",
    "personality": "MARS presets: also write the REACT 2026 Big-Five tables personality/{listener,speaker}.csv",
    "eeg": "MARS presets: also write REACT 2026 EEG tables eeg_processed/<role>/<session>/<stem>.csv",
}


def _preset_summary() -> str:
    parts = []
    for name, pairs in PRESET_PAIRS.items():
        if name in MARS_PRESETS:
            preset = MARS_PRESETS[name]
            low, high = preset.dyads_per_session
            parts.append(
                f"{name} {'/'.join(map(str, pairs))} stems, {low}-{high} dyads per session, "
                f"{preset.lengths[0]}-{preset.lengths[1]} frames"
            )
        else:
            parts.append(f"{name} {'/'.join(map(str, pairs))}")
    return "; ".join(parts)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic REACT-layout dataset (speakers, lagged one-to-many listener reactions)",
        description=(
            "Generate a synthetic dyadic corpus. Presets tiny, small, react2024 write the REACT 2024 "
            "layout (25 fps, 751-frame clips): split lists, Emotion CSVs, 3DMM .npy, audio .wav, "
            "mean_face.npy and neighbour (appropriateness) matrices. Presets mars-tiny, mars-small write "
            "the REACT 2025/2026 MARS layout (30 fps, variable lengths, <split>/<stream>/<role>/<session>/"
            "<stem>; appropriateness = same session folder), with --personality and --eeg the 2026 "
            "extras. With --video also rendered mp4 clips. Presets (train/val/test): "
            + _preset_summary()
            + ". Re-running the same command resumes; the same seed gives identical bytes."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("out", help="output folder (the dataset root)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    for name, help_text in SWITCHES.items():
        parser.add_argument(f"--{name}", action="store_true", default=argparse.SUPPRESS, help=help_text)
    add_config_args(parser, SynthConfig, skip=tuple(SWITCHES))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.synth.writer import write_dataset

    overrides = {name: True for name in SWITCHES if getattr(args, name, False)}
    config = resolve_config(SynthConfig, args, **overrides)
    counts = write_dataset(args.out, config, progress=not args.no_progress)
    summary = ", ".join(f"{split} {count}" for split, count in counts.items())
    unit = "stems" if config.is_mars else "pairs"
    print(f"wrote {args.out} (preset {config.preset}, seed {config.seed}; {unit}: {summary})")
    return 0
