"""``reactdiff benchmark --data D --out DIR``: every registered method on the same step budget, with
several generation seeds, beside the trivial baselines and the oracle; resumable."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from reactdiff.benchmark import BenchmarkConfig
    from reactdiff.config import add_config_args

    parser = subparsers.add_parser(
        "benchmark",
        help="train every method on one step budget, generate with N seeds, evaluate both protocols -> benchmark.md/json",
        description=__doc__.split("\n\n", 1)[0],
    )
    parser.add_argument("--data", type=Path, required=True, help="prepared dataset root (a synthetic corpus adds the oracle row)")
    parser.add_argument("--out", type=Path, required=True, help="benchmark folder (runs, predictions, scores, benchmark.md/json)")
    add_config_args(parser, BenchmarkConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.benchmark import BenchmarkConfig, run_benchmark
    from reactdiff.config import resolve_config, save_config

    config = resolve_config(BenchmarkConfig, args).validate()
    save_config(config, args.out / "benchmark_config.json")
    run_benchmark(args.data, args.out, config)
    print((args.out / "benchmark.md").read_text())
    print(f"wrote {args.out / 'benchmark.md'} and {args.out / 'benchmark.json'}")
    return 0
