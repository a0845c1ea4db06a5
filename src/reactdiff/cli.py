"""The ``reactdiff`` command line. Each subcommand lives in ``reactdiff.commands.<name>`` and
exposes ``register(subparsers)``; modules keep heavy imports (torch, av) inside their handlers so
``reactdiff --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from reactdiff import __version__
from reactdiff.errors import ReactDiffError

#: Subcommand modules in the order ``--help`` lists them.
COMMAND_MODULES = (
    "synth",
    "data",
    "prepare",
    "extract",
    "methods",
    "train",
    "generate",
    "evaluate",
    "render",
    "plot",
    "demo",
    "benchmark",
    "react",
    "serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reactdiff",
        description="Listener facial reaction generation (ReactDiff) on REACT data or your own clips.",
    )
    parser.add_argument("--version", action="version", version=f"reactdiff {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"reactdiff.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"reactdiff.commands.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except ReactDiffError as exc:
        print(f"reactdiff {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"reactdiff {args.command}: interrupted; re-run the same command to resume.", file=sys.stderr)
        return 130
    except Exception:
        # Bad input is a ReactDiffError above; anything else is a bug: keep its traceback.
        traceback.print_exc()
        print(
            f"reactdiff {args.command}: internal error (a bug in reactdiff {__version__}, not in your input); "
            "please report it on the project's issue tracker with the command line and the traceback above.",
            file=sys.stderr,
        )
        return 1
    return int(status or 0)


if __name__ == "__main__":
    raise SystemExit(main())
