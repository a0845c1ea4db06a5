"""``reactdiff demo``: the whole job on the synthetic corpus in one resumable command."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.demo import DemoConfig

    parser = subparsers.add_parser(
        "demo",
        help="synthetic corpus -> features -> train -> generate -> evaluate -> render, in one command",
        description="Run the whole pipeline (any registered method, ReactDiff by default) on the synthetic corpus with step budgets, so the same command gives the same numbers on any machine. Interrupt and re-run to continue.",
    )
    parser.add_argument("--out", type=Path, default=Path("reactdiff-demo"), help="output folder (default: reactdiff-demo)")
    add_config_args(parser, DemoConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import resolve_config, save_config
    from reactdiff.demo import Demo, DemoConfig

    config = resolve_config(DemoConfig, args).validate()
    save_config(config, args.out / "demo_config.json")
    Demo(args.out, config).run()
    return 0
