"""``reactdiff generate``: K listener reactions for every speaker of a split, by any method's
checkpoint, as a predictions file.

Rows follow the split's evaluation order (pairs, then mirrored pairs) and carry their speaker and
listener paths, so ``reactdiff evaluate`` can match them to the appropriateness matrix. Sampling
options default to what the checkpoint was trained with; the flags override them (a method that
takes no such option says so).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reactdiff.generation import GENERATE_BATCH


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """The sampling flags every generation command shares (None = the checkpoint's setting)."""
    parser.add_argument("--steps", type=int, default=None, help="diffusion methods: sampling steps (default: the checkpoint's)")
    parser.add_argument("--eta", type=float, default=None, help="DDIM eta (default: the checkpoint's; 0 = deterministic given the noise)")
    parser.add_argument("--sampler", default=None, help="diffusion methods: ddim or ddpm (default: ddim)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="any other sampling option of the method (e.g. --option momentum=0.9); repeatable")


def sampling_options(args: argparse.Namespace) -> dict:
    """The sampling options given on the command line (None where not given)."""
    import yaml

    from reactdiff.errors import ConfigError

    options = {"steps": args.steps, "eta": args.eta, "sampler": args.sampler}
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--option: expected NAME=VALUE, got {item!r}")
        options[name] = yaml.safe_load(value)
    return options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate K listener reactions per speaker of a split (predictions .npz for `evaluate`)",
        description=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="any method's final checkpoint or run folder (its best/)")
    parser.add_argument("--data", type=Path, required=True, help="dataset root prepared by `reactdiff prepare`")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--samples", type=int, default=10, help="reactions per speaker (K)")
    add_sampling_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch_size", type=int, default=GENERATE_BATCH, help="speakers (chunks) per sampling call")
    parser.add_argument("--chunk_frames", type=int, default=750,
                        help="longer clips are generated in consecutive chunks of this many frames, each independently "
                        "(the REACT offline protocol; a REACT 2024 clip is one chunk)")
    parser.add_argument("--layout", default="auto", help="dataset layout: auto, react2024 or react2025 (MARS)")
    parser.add_argument("--device", default="auto", help="auto (GPU if torch sees one), cpu, cuda, cuda:1...")
    parser.add_argument("--out", type=Path, required=True, help="predictions .npz to write (an existing file is replaced)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.errors import ConfigError
    from reactdiff.generation import generate_split
    from reactdiff.io import save_json
    from reactdiff.pipeline import ReactionModel

    if args.out.is_dir():
        raise ConfigError(f"--out: {args.out} is a folder; give the predictions file to write (e.g. {args.out / 'predictions.npz'})")
    if args.samples < 1 or args.batch_size < 1 or args.chunk_frames < 1:
        raise ConfigError("--samples, --batch_size and --chunk_frames must be positive")
    model = ReactionModel.from_checkpoint(args.checkpoint, device=args.device)
    options = sampling_options(args)
    model.sampling(**options)  # a bad option fails here, before any generation
    predictions = generate_split(model, args.data, args.split, num_samples=args.samples, seed=args.seed,
                                 batch_size=args.batch_size, chunk_frames=args.chunk_frames, layout=args.layout, **options)
    predictions.save(args.out)
    save_json(args.out.with_suffix(".config.json"), dict(predictions.meta, data=str(args.data), out=str(args.out)))
    lengths = predictions.lengths
    frames = f"{lengths[0]}" if len(set(lengths)) == 1 else f"{min(lengths)}..{max(lengths)}"
    print(f"wrote {args.out}: {predictions.num_rows} speakers x {predictions.num_samples} reactions x {frames} frames "
          f"by {model.name} ({predictions.meta['seconds']} s)")
    return 0
