"""``reactdiff generate``: K listener reactions for every speaker of a split, as a predictions file.

Rows follow the split's evaluation order (pairs, then mirrored pairs) and carry their speaker and
listener paths, so ``reactdiff evaluate`` can match them to the appropriateness matrix.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate K listener reactions per speaker of a split (predictions .npz for `evaluate`)",
        description=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="diffusion checkpoint or run folder (its best/)")
    parser.add_argument("--data", type=Path, required=True, help="dataset root prepared by `reactdiff prepare`")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--samples", type=int, default=10, help="reactions per speaker (K)")
    parser.add_argument("--steps", type=int, default=20, help="sampling steps (respaced from the training schedule)")
    parser.add_argument("--eta", type=float, default=0.0, help="DDIM eta (0 = deterministic given the initial noise)")
    parser.add_argument("--sampler", default="ddim", help="ddim or ddpm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch_size", type=int, default=16, help="speakers per sampling call")
    parser.add_argument("--device", default="auto", help="auto (GPU if torch sees one), cpu, cuda, cuda:1...")
    parser.add_argument("--out", type=Path, required=True, help="predictions .npz to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from reactdiff.constants import CLIP_FRAMES
    from reactdiff.data.layout import ReactLayout
    from reactdiff.data.store import FeatureStore
    from reactdiff.errors import ConfigError
    from reactdiff.io import save_json
    from reactdiff.pipeline import ReactDiff
    from reactdiff.predictions import Predictions
    from reactdiff.device import resolve_device

    if args.samples < 1 or args.steps < 1 or args.batch_size < 1:
        raise ConfigError("--samples, --steps and --batch_size must be positive")
    device = resolve_device(args.device)
    model = ReactDiff.from_checkpoint(args.checkpoint, device=device)
    layout = ReactLayout(args.data)
    store = FeatureStore(args.data / "features")
    model.check_streams({name: info.dim for name, info in store.streams.items()}, source=store.directory)
    pairs = layout.eval_order(args.split)

    emotion, coeffs = [], []
    started = time.monotonic()
    with tqdm(total=len(pairs), unit="speaker", desc="generate") as progress:
        for start in range(0, len(pairs), args.batch_size):
            chunk = pairs[start : start + args.batch_size]
            speakers = {
                name: np.stack([store.read(name, f"{args.split}/{pair.speaker}")[:CLIP_FRAMES] for pair in chunk])
                for name in model.stream_names
            }
            # One seed per chunk, derived from --seed, so results do not depend on the device order.
            result = model.generate_batch(speakers, num_samples=args.samples, steps=args.steps, seed=args.seed + start, eta=args.eta, sampler=args.sampler)
            emotion.append(result["emotion"])
            coeffs.append(result["coeffs_3dmm"])
            progress.update(len(chunk))
    meta = {
        "model": "reactdiff",
        "checkpoint": model.source,
        "split": args.split,
        "num_samples": args.samples,
        "steps": args.steps,
        "eta": args.eta,
        "sampler": args.sampler,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "device": str(device),
        "seconds": round(time.monotonic() - started, 2),
    }
    predictions = Predictions(
        emotion=np.concatenate(emotion),
        coeffs_3dmm=np.concatenate(coeffs),
        speaker_path=[pair.speaker for pair in pairs],
        listener_path=[pair.listener for pair in pairs],
        meta=meta,
    )
    predictions.save(args.out)
    save_json(args.out.with_suffix(".config.json"), dict(meta, data=str(args.data), out=str(args.out)))
    print(f"wrote {args.out}: {len(pairs)} speakers x {args.samples} reactions x {CLIP_FRAMES} frames ({meta['seconds']} s)")
    return 0
