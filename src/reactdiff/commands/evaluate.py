"""``reactdiff evaluate``: score a predictions file (or the reference baselines) on a REACT split."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal


@dataclass
class EvaluateConfig:
    """Settings of ``reactdiff evaluate`` (saved beside every report)."""

    split: Literal["val", "test"] = "val"
    #: "both" computes the protocol-independent metrics (FRDist above all) once for the two.
    protocol: Literal["official", "corrected", "both"] = "both"
    #: Torch device of the vectorised metrics: "cpu", "cuda" or "auto" (DTW always runs on the CPU).
    device: str = "cpu"
    #: Reactions per speaker that the baselines produce.
    num_samples: int = 10
    #: Seed of the random baseline.
    seed: int = 0

    @property
    def protocols(self) -> tuple[str, ...]:
        return ("official", "corrected") if self.protocol == "both" else (self.protocol,)


def register(subparsers) -> None:
    from reactdiff.trivial import BASELINES
    from reactdiff.config import add_config_args

    parser = subparsers.add_parser(
        "evaluate",
        help="REACT metrics (FRCorr, FRDist, FRDiv, FRVar, FRDvs, FRSyn, Frechet distances) of predictions or baselines",
        description=(
            "Evaluate a predictions .npz (rows in the split's evaluation order) or the reference baselines "
            "against a REACT-layout dataset, under the official protocol (the published numbers, quirks "
            "included), the corrected one, or both. Prints a table and writes <name>.json and <name>.md."
        ),
    )
    parser.add_argument("--data", type=Path, required=True, help="dataset root (REACT layout)")
    parser.add_argument("--predictions", type=Path, help="predictions .npz written by `reactdiff generate`")
    baselines = parser.add_mutually_exclusive_group()
    baselines.add_argument("--baseline", choices=BASELINES, help="evaluate one reference baseline")
    baselines.add_argument(
        "--baselines", action="store_true",
        help="evaluate all baselines in one table (beside --predictions when given)",
    )
    parser.add_argument(
        "--out", type=Path, default=None,
        help="report folder (default: beside the predictions file; for baselines runs/baselines-<split>)",
    )
    add_config_args(parser, EvaluateConfig)
    parser.set_defaults(func=run)


def check_row_order(predictions, pairs, source: Path, split: str) -> None:
    """Refuse predictions whose rows are not exactly the split's evaluation order."""
    from reactdiff.errors import DataError

    if len(predictions.speaker_path) != len(pairs):
        raise DataError(
            source,
            f"{len(predictions.speaker_path)} rows, but split '{split}' has {len(pairs)} in evaluation order "
            f"(2 x pairs: listed, then mirrored)",
        )
    for row, (speaker, listener, pair) in enumerate(zip(predictions.speaker_path, predictions.listener_path, pairs)):
        if (speaker, listener) != (pair.speaker, pair.listener):
            raise DataError(
                source,
                f"row {row} is speaker '{speaker}' -> listener '{listener}', but row {row} of the '{split}' "
                f"evaluation order is '{pair.speaker}' -> '{pair.listener}'",
            )


def run(args: argparse.Namespace) -> int:
    from reactdiff.trivial import BASELINES, load_baseline_inputs, make_baseline
    from reactdiff.config import resolve_config, save_config
    from reactdiff.data.layout import ReactLayout
    from reactdiff.errors import ConfigError, DataError
    from reactdiff.device import resolve_device
    from reactdiff.metrics.evaluate import evaluate_protocols
    from reactdiff.metrics.report import format_table, write_reports
    from reactdiff.predictions import Predictions, range_warnings

    if args.predictions is None and args.baseline is None and not args.baselines:
        raise ConfigError("give --predictions FILE, --baseline NAME or --baselines (or --predictions with --baselines)")
    config = resolve_config(EvaluateConfig, args)
    device = str(resolve_device(config.device))
    layout = ReactLayout(args.data)
    neighbours = layout.neighbours(config.split)
    started = time.perf_counter()

    runs, warnings = {}, []
    if args.predictions is not None:
        predictions = Predictions.load(args.predictions)
        check_row_order(predictions, layout.eval_order(config.split), args.predictions, config.split)
        with_3dmm = predictions.coeffs_3dmm is not None
        inputs = load_baseline_inputs(args.data, config.split, with_3dmm=with_3dmm)
        frames = inputs.listener["emotion"].shape[1]
        if predictions.emotion.shape[2] != frames:
            raise DataError(args.predictions, f"{predictions.emotion.shape[2]} frames per reaction, the ground truth has {frames}")
        warnings = range_warnings(predictions, inputs.listener.get("3dmm"))
        runs[args.predictions.stem] = lambda: predictions
        out_dir = args.out or args.predictions.parent
        stem = f"{args.predictions.stem}_metrics"
    else:
        inputs = load_baseline_inputs(args.data, config.split)
        out_dir = args.out or Path("runs") / f"baselines-{config.split}"
        stem = "baselines" if args.baselines else f"baseline_{args.baseline}"
    names = BASELINES if args.baselines else (args.baseline,) if args.baseline else ()
    # Built one at a time inside the loop below: five test-size baselines would not fit in memory at once.
    runs.update({name: partial(make_baseline, name, inputs, config.num_samples, config.seed) for name in names})

    columns = {}
    for name, build in runs.items():
        predictions = build()
        with_3dmm = predictions.coeffs_3dmm is not None and "3dmm" in inputs.listener
        results = evaluate_protocols(
            predictions.emotion,
            inputs.listener["emotion"],
            inputs.speaker["emotion"],
            neighbours,
            config.protocols,
            coeffs_3dmm=predictions.coeffs_3dmm if with_3dmm else None,
            listener_3dmm=inputs.listener["3dmm"] if with_3dmm else None,
            device=device,
        )
        for protocol, scores in results.items():
            columns[f"{name} / {protocol}" if len(runs) > 1 or names else protocol] = scores

    context = {
        "dataset": str(args.data),
        "split": config.split,
        "evaluated": str(args.predictions) if args.predictions is not None else ", ".join(runs),
        "rows (N)": int(neighbours.shape[0]),
        "protocols": ", ".join(config.protocols),
        "device": device,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if warnings:
        context["warnings"] = "; ".join(f"predictions out of range: {warning}" for warning in warnings)
    title = f"REACT evaluation ({config.split})"
    print(f"{title}: {context['evaluated']}; protocol(s): {context['protocols']}")
    for warning in warnings:
        print(f"warning: predictions out of range: {warning}")
    print(format_table(columns))
    json_path, markdown_path = write_reports(out_dir, stem, title, context, columns)
    save_config(config, Path(out_dir) / f"{stem}_config.json")
    print(f"wrote {json_path} and {markdown_path} ({context['seconds']} s)")
    return 0
