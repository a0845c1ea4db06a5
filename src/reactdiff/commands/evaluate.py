"""``reactdiff evaluate``: score a predictions file (or the reference baselines) on a REACT split."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass
class EvaluateConfig:
    """Settings of ``reactdiff evaluate`` (saved beside every report)."""

    split: Literal["val", "test"] = "val"
    #: auto: the dataset layout's own (REACT 2024: both; REACT 2025/2026 (MARS): react2025).
    #: "both" computes the protocol-independent metrics (FRDist above all) once for the two.
    protocol: Literal["auto", "official", "corrected", "both", "react2025"] = "auto"
    #: Dataset layout: auto (detected), react2024 or react2025.
    layout: str = "auto"
    #: react2025: how ground truths of another length are aligned to a prediction's (the official
    #: learned post-processor is not public): index_emulation, crop_pad or resample.
    alignment: str = "index_emulation"
    #: react2025: FRSyn as the official code computes it ("official") or without its NaN quirk ("nan_safe").
    tlcc: Literal["official", "nan_safe"] = "official"
    #: Torch device of the metrics: "cpu", "cuda" or "auto" (on a GPU, FRDist's DTW runs as a batched wavefront kernel).
    device: str = "cpu"
    #: Reactions per speaker that the baselines produce.
    num_samples: int = 10
    #: Seed of the random baseline.
    seed: int = 0

    @property
    def protocols(self) -> tuple[str, ...] | None:
        """The protocols asked for; None: the layout's defaults."""
        return {"auto": None, "both": ("official", "corrected")}.get(self.protocol, (self.protocol,))


def register(subparsers) -> None:
    from reactdiff.config import add_config_args
    from reactdiff.trivial import REFERENCES

    parser = subparsers.add_parser(
        "evaluate",
        help="REACT metrics (FRCorr, FRDist, FRDiv, FRVar, FRDvs, FRSyn, Frechet distances) of predictions or baselines",
        description=(
            "Evaluate a predictions .npz (rows in the split's evaluation order) or the reference baselines "
            "against a REACT-layout dataset: REACT 2024 under the official protocol (the published numbers, quirks "
            "included), the corrected one, or both; REACT 2025/2026 (MARS) under react2025. Prints a table and "
            "writes <name>.json and <name>.md."
        ),
    )
    parser.add_argument("--data", type=Path, required=True, help="dataset root (REACT layout)")
    parser.add_argument("--predictions", type=Path, help="predictions .npz written by `reactdiff generate`")
    baselines = parser.add_mutually_exclusive_group()
    baselines.add_argument("--baseline", choices=REFERENCES,
                           help="evaluate one reference row (oracle: synthetic corpora only, the ceiling of every metric)")
    baselines.add_argument(
        "--baselines", action="store_true",
        help="evaluate all reference rows in one table (the trivial baselines, and the oracle on a synthetic corpus), "
        "beside --predictions when given",
    )
    parser.add_argument(
        "--out", type=Path, default=None,
        help="report folder (default: beside the predictions file; for baselines runs/baselines-<split>)",
    )
    add_config_args(parser, EvaluateConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import resolve_config, save_config
    from reactdiff.errors import ConfigError
    from reactdiff.evaluation import evaluate_split
    from reactdiff.trivial import references_for

    if args.predictions is None and args.baseline is None and not args.baselines:
        raise ConfigError("give --predictions FILE, --baseline NAME or --baselines (or --predictions with --baselines)")
    config = resolve_config(EvaluateConfig, args)
    if config.num_samples < 1:
        raise ConfigError(f"num_samples: must be positive, got {config.num_samples}")
    baselines = references_for(args.data) if args.baselines else (args.baseline,) if args.baseline else ()
    predictions = {args.predictions.stem: args.predictions} if args.predictions is not None else {}
    report = evaluate_split(args.data, config.split, predictions=predictions, baselines=baselines, protocols=config.protocols,
                            device=config.device, num_samples=config.num_samples, seed=config.seed, layout=config.layout,
                            alignment=config.alignment, tlcc=config.tlcc)
    if args.predictions is not None:
        out_dir, stem = args.out or args.predictions.parent, f"{args.predictions.stem}_metrics"
        report.context["evaluated"] = str(args.predictions) + (f", {', '.join(baselines)}" if baselines else "")
    else:
        out_dir = args.out or Path("runs") / f"baselines-{config.split}"
        stem = "baselines" if args.baselines else f"baseline_{args.baseline}"
    print(f"{report.title}: {report.context['evaluated']}; protocol(s): {report.context['protocols']}")
    for warning in report.warnings:
        print(f"WARNING: {warning}")
    print(report.table())
    json_path, markdown_path = report.write(out_dir, stem)
    save_config(config, Path(out_dir) / f"{stem}_config.json")
    print(f"wrote {json_path} and {markdown_path} ({report.context['seconds']} s)")
    return 0
