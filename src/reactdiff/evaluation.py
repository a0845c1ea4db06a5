"""Scoring predictions (and the trivial baselines) on a dataset split: what ``reactdiff evaluate``,
the demo and the benchmark call. The report is data (title, context, one column of scores per
evaluated run and protocol); Markdown and JSON are rendered from it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from reactdiff.errors import DataError
from reactdiff.predictions import Predictions, range_warnings


@dataclass
class EvaluationReport:
    """What an evaluation found: ``columns[name] = {metric: value, "protocol": ..., "notes": [...]}``."""

    title: str
    context: dict[str, Any]
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Lines a reader must see first (e.g. training cut short, nearly identical samples).
    warnings: list[str] = field(default_factory=list)

    def table(self) -> str:
        from reactdiff.metrics.report import format_table

        return format_table(self.columns)

    def write(self, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.json`` and ``<stem>.md`` in ``out_dir`` (atomically)."""
        from reactdiff.metrics.report import write_reports

        return write_reports(out_dir, stem, self.title, self.context, self.columns, self.warnings)


def check_row_order(predictions: Predictions, pairs, source: Path | str, split: str) -> None:
    """Refuse predictions whose rows are not exactly the split's evaluation order."""
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


def evaluate_split(data: str | Path, split: str = "val", *, predictions: Mapping[str, Predictions | str | Path] | None = None,
                   baselines: Sequence[str] = (), protocols: Sequence[str] = ("official", "corrected"), device: str = "cpu",
                   num_samples: int = 10, seed: int = 0, title: str | None = None) -> EvaluationReport:
    """Score every named predictions run (a Predictions or its .npz path) and every trivial
    baseline on ``split`` under each protocol. Columns are ``"<name> / <protocol>"``."""
    from functools import partial

    from reactdiff.data.layout import ReactLayout
    from reactdiff.device import resolve_device
    from reactdiff.metrics.evaluate import evaluate_protocols
    from reactdiff.trivial import load_baseline_inputs, make_baseline

    device = str(resolve_device(device))
    data = Path(data)
    layout = ReactLayout(data)
    neighbours = layout.neighbours(split)
    pairs = layout.eval_order(split)
    started = time.perf_counter()

    loaded: dict[str, Predictions] = {}
    for name, item in (predictions or {}).items():
        loaded[name] = item if isinstance(item, Predictions) else Predictions.load(item)
        check_row_order(loaded[name], pairs, item if not isinstance(item, Predictions) else name, split)
    with_3dmm = any(run.coeffs_3dmm is not None for run in loaded.values()) if loaded else None
    inputs = load_baseline_inputs(data, split, with_3dmm=with_3dmm)
    frames = inputs.listener["emotion"].shape[1]
    out_of_range = []
    for name, run in loaded.items():
        if run.emotion.shape[2] != frames:
            raise DataError(name, f"{run.emotion.shape[2]} frames per reaction, the ground truth has {frames}")
        out_of_range += [f"{name}: predictions out of range: {warning}" for warning in range_warnings(run, inputs.listener.get("3dmm"))]
    runs: dict[str, Callable[[], Predictions]] = {name: (lambda run: lambda: run)(run) for name, run in loaded.items()}
    # Baselines are built one at a time inside the loop below: five test-size baselines would not fit in memory at once.
    runs.update({name: partial(make_baseline, name, inputs, num_samples, seed) for name in baselines})

    columns = {}
    for name, build in runs.items():
        run = build()
        scored_3dmm = run.coeffs_3dmm is not None and "3dmm" in inputs.listener
        results = evaluate_protocols(
            run.emotion, inputs.listener["emotion"], inputs.speaker["emotion"], neighbours, tuple(protocols),
            coeffs_3dmm=run.coeffs_3dmm if scored_3dmm else None,
            listener_3dmm=inputs.listener["3dmm"] if scored_3dmm else None,
            device=device,
        )
        for protocol, scores in results.items():
            columns[f"{name} / {protocol}" if len(runs) > 1 or baselines else protocol] = scores
    warnings = out_of_range + _collapse_warnings(columns, set(predictions or {}))
    context = {
        "dataset": str(data),
        "split": split,
        "evaluated": ", ".join(runs),
        "rows (N)": int(neighbours.shape[0]),
        "protocols": ", ".join(protocols),
        "device": device,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return EvaluationReport(title or f"REACT evaluation ({split})", context, columns, warnings)


def _collapse_warnings(columns: dict[str, dict[str, Any]], runs: set[str]) -> list[str]:
    """A run whose FRDiv is under a tenth of the oracle's has nearly identical samples: say so first."""
    warnings = []
    for key, scores in columns.items():
        name, _, protocol = key.rpartition(" / ")
        oracle = columns.get(f"oracle / {protocol}", {}).get("FRDiv")
        if name in runs and oracle and scores.get("FRDiv") is not None and scores["FRDiv"] < 0.1 * oracle:
            warnings.append(
                f"{name}: the K reactions are nearly identical (FRDiv {scores['FRDiv']:.4f} under a tenth of the "
                f"oracle's {oracle:.4f}, {protocol} protocol)"
            )
    return list(dict.fromkeys(warnings))
