"""``reactdiff data check ROOT``: validate a REACT-layout dataset."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.constants import SPLITS
    from reactdiff.data.layouts import LAYOUTS

    parser = subparsers.add_parser("data", help="dataset utilities (check)")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate a REACT dataset (2024 or 2025/2026 MARS layout) and list every problem with its file",
        description="Exit status 1 when any problem is found.",
    )
    check.add_argument("root", type=Path)
    check.add_argument("--splits", nargs="+", default=list(SPLITS), choices=SPLITS)
    check.add_argument("--mean-face", type=Path, default=None, help="mean face .npy (default <root>/mean_face.npy)")
    check.add_argument("--layout", default="auto", choices=LAYOUTS,
                       help="dataset layout (default: detected: split CSVs = react2024, <split>/facial-attributes = react2025)")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from reactdiff.data.check import check_dataset

    problems = check_dataset(args.root, splits=args.splits, mean_face=args.mean_face, layout=args.layout)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found in {args.root}")
        return 1
    print(f"{args.root}: OK ({', '.join(args.splits)})")
    return 0
