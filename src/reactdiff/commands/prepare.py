"""``reactdiff prepare ROOT``: compute the feature store of a REACT-layout dataset."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.data.prepare import PrepareConfig

    parser = subparsers.add_parser(
        "prepare",
        help="compute every per-clip feature stream once into a memory-mapped store",
        description="Compute feature streams (emotion, 3dmm, mfcc, ...) for every clip of a REACT-layout "
        "dataset into <ROOT>/features. Up-to-date files are skipped; an interrupted run resumes.",
    )
    parser.add_argument("root", type=Path, help="dataset root (REACT layout)")
    add_config_args(parser, PrepareConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import resolve_config, save_config
    from reactdiff.data.prepare import PrepareConfig, prepare, store_for

    config = resolve_config(PrepareConfig, args)
    summary = prepare(args.root, config)
    store = store_for(args.root, config)
    save_config(config, store.directory / "prepare_config.json")
    print(
        f"prepared {', '.join(summary.splits)}: {summary.computed} stream files written, "
        f"{summary.skipped} up to date; store: {store.directory}"
    )
    return 0
