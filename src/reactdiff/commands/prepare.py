"""``reactdiff prepare ROOT``: compute the feature store of a REACT-layout dataset."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.data.prepare import PrepareConfig

    parser = subparsers.add_parser(
        "prepare",
        help="compute every per-clip feature stream once into a memory-mapped store",
        description="Compute feature streams (emotion, 3dmm, mfcc, ...) for every clip of a REACT dataset "
        "(2024 layout at 25 fps, or 2025/2026 MARS at 30 fps: --layout) into <ROOT>/features. Up-to-date "
        "files are skipped; an interrupted run resumes. --workers N computes clips in N processes; "
        "--shard I/N does every N-th clip, so N machines can share one store.",
    )
    parser.add_argument("root", type=Path, help="dataset root (REACT 2024 or MARS layout)")
    add_config_args(parser, PrepareConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import resolve_config, save_config
    from reactdiff.data.prepare import PrepareConfig, prepare, store_for

    config = resolve_config(PrepareConfig, args)
    summary = prepare(args.root, config)
    store = store_for(args.root, config)
    # How the work was split is no property of the store: every shard records the same settings,
    # with the layout as detected.
    recorded = dataclasses.replace(config, workers=1, shard="", layout=summary.layout)
    save_config(recorded, store.directory / "prepare_config.json")
    print(
        f"prepared {', '.join(summary.splits)}: {summary.computed} stream files written, "
        f"{summary.skipped} up to date; store: {store.directory}"
    )
    for note, count in sorted(summary.notes.items()):
        print(f"  {count} clip(s) {note}")
    return 0
