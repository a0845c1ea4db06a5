"""``reactdiff plot``: PNG figures of the K generated reactions of one predictions row."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="PNG figures of one predictions row: AU raster, valence/arousal, expressions, diversity of the K reactions",
        description=(
            "Write au_raster.png, valence_arousal.png, expressions.png and diversity.png for row --index of a "
            "predictions file into --out, with the speaker's and the real listener's curves from --data when given."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--predictions", required=True, type=Path, help="predictions .npz (reactdiff generate)")
    parser.add_argument("--data", type=Path, default=None, help="REACT-layout dataset root (adds the speaker's and the real listener's curves)")
    parser.add_argument("--index", required=True, type=int, help="row of the predictions file")
    parser.add_argument("--split", default=None, help="split of the rows (default: recorded in the file, else val)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the PNG files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.render.rows import plot_row

    paths = plot_row(args.predictions, args.index, args.out, data=args.data, split=args.split)
    print("wrote " + ", ".join(str(path) for path in paths))
    return 0
