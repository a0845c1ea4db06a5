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


#: The protocols of each dataset layout, the default first (REACT 2024: both of its own).
LAYOUT_PROTOCOLS = {"react2024": ("official", "corrected"), "react2025": ("react2025",)}


def protocols_for(data: str | Path, protocols: Sequence[str] | None = None, layout: str = "auto") -> tuple[str, ...]:
    """``protocols`` checked against the dataset's layout, or the layout's defaults when None."""
    from reactdiff.data.layouts import open_layout
    from reactdiff.errors import ConfigError

    name = open_layout(data, layout).name
    allowed = LAYOUT_PROTOCOLS[name]
    if protocols is None:
        return allowed
    wrong = [protocol for protocol in protocols if protocol not in allowed]
    if wrong:
        raise ConfigError(
            f"--protocol: {', '.join(wrong)} does not apply to {data} ({name} layout); its protocols: {', '.join(allowed)} "
            "(the 2024 protocols score against the neighbour matrix of REACT 2024; REACT 2025/2026 against same-session reactions)"
        )
    return tuple(protocols)


def evaluate_split(data: str | Path, split: str = "val", *, predictions: Mapping[str, Predictions | str | Path] | None = None,
                   baselines: Sequence[str] = (), protocols: Sequence[str] | None = None, device: str = "cpu",
                   num_samples: int = 10, seed: int = 0, title: str | None = None, layout: str = "auto",
                   alignment: str | None = None, tlcc: str = "official") -> EvaluationReport:
    """Score every named predictions run (a Predictions or its .npz path) and every trivial
    baseline on ``split`` under each protocol. Columns are ``"<name> / <protocol>"``.

    ``protocols`` default to the layout's (REACT 2024: official and corrected; REACT 2025/2026:
    react2025, whose ``alignment`` of ground truths to the prediction length and ``tlcc`` variant
    are settings; see docs/metrics.md)."""
    from functools import partial

    from reactdiff.data.layouts import open_layout
    from reactdiff.device import resolve_device
    from reactdiff.metrics.evaluate import evaluate_protocols
    from reactdiff.trivial import load_baseline_inputs, make_baseline

    protocols = protocols_for(data, protocols, layout)
    device = str(resolve_device(device))
    data = Path(data)
    reader = open_layout(data, layout)
    if reader.name == "react2025":
        return _evaluate_react2025(reader, split, predictions or {}, baselines, device, num_samples, seed, title, alignment, tlcc)
    neighbours = reader.neighbours(split)
    pairs = reader.eval_order(split)
    started = time.perf_counter()

    loaded: dict[str, Predictions] = {}
    for name, item in (predictions or {}).items():
        loaded[name] = item if isinstance(item, Predictions) else Predictions.load(item)
        check_row_order(loaded[name], pairs, item if not isinstance(item, Predictions) else name, split)
        if loaded[name].ragged:
            raise DataError(item if not isinstance(item, Predictions) else name, "rows of different lengths; REACT 2024 rows all have 750 frames")
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


def _evaluate_react2025(reader, split: str, predictions: Mapping[str, Predictions | str | Path], baselines: Sequence[str],
                        device: str, num_samples: int, seed: int, title: str | None, alignment: str | None,
                        tlcc: str) -> EvaluationReport:
    """REACT 2025/2026: every row against its recorded appropriate set (paired reaction + 9 of the
    same session), whole clips of any length, under the react2025 protocol."""
    import numpy as np

    from reactdiff.data.mars import load_appropriate_sets
    from reactdiff.metrics.alignment import DEFAULT_ALIGNMENT, check_alignment
    from reactdiff.metrics.react2025 import evaluate_react2025
    from reactdiff.store import FeatureStore
    from reactdiff.trivial import ragged_baseline_reactions

    alignment = check_alignment(alignment or DEFAULT_ALIGNMENT)
    started = time.perf_counter()
    store = FeatureStore(reader.root / "features")
    if "emotion" not in store.streams:
        raise DataError(store.directory, f"no prepared 'emotion' stream; run `reactdiff prepare {reader.root}`")
    pairs = reader.eval_order(split)
    sets_path = store.directory / f"appropriate_{split}.json"
    if sets_path.is_file():
        sets, sets_source = load_appropriate_sets(sets_path), str(sets_path)
    else:
        sets, sets_source = reader.appropriate_sets(split), "drawn now (seed 1234; `reactdiff prepare` records them)"
    if len(sets) != len(pairs):
        raise DataError(sets_path, f"{len(sets)} appropriate sets for {len(pairs)} rows of '{split}'; re-run `reactdiff prepare {reader.root}`")
    emotion: dict[str, np.ndarray] = {}

    def clip(name: str, split_name: str = split) -> np.ndarray:
        key = f"{split_name}/{name}"
        if key not in emotion:
            emotion[key] = np.asarray(store.read("emotion", key), dtype=np.float32)
        return emotion[key]

    speakers = [clip(pair.speaker) for pair in pairs]
    listeners = [clip(pair.listener) for pair in pairs]
    appropriate = [[clip(name) for name in names] for names in sets]

    runs: dict[str, Callable[[], list]] = {}
    out_of_range = []
    for name, item in predictions.items():
        run = item if isinstance(item, Predictions) else Predictions.load(item)
        source = item if not isinstance(item, Predictions) else name
        check_row_order(run, pairs, source, split)
        for row, (length, spk) in enumerate(zip(run.lengths, speakers)):
            if length != len(spk):
                raise DataError(source, f"row {row} has {length} frames; its speaker clip {pairs[row].speaker} has {len(spk)}")
        out_of_range += [f"{name}: predictions out of range: {warning}" for warning in range_warnings(run)]
        runs[name] = (lambda rows: lambda: rows)(list(run.emotion))
    if baselines:
        train_pairs = reader.eval_order("train") if reader.has_split("train") else []
        train_listener = [clip(pair.listener, "train") for pair in train_pairs] or listeners
        for name in baselines:
            if name == "oracle":
                from reactdiff.synth.oracle import mars_oracle_predictions

                runs[name] = lambda: mars_oracle_predictions(reader.root, split, num_samples, seed).emotion
                continue
            runs[name] = (lambda name: lambda: ragged_baseline_reactions(
                name, speakers, listeners, train_listener, num_samples, np.random.default_rng(seed)))(name)

    columns = {}
    for name, build in runs.items():
        scores = evaluate_react2025(build(), appropriate, speakers, alignment=alignment, tlcc=tlcc, device=device)
        scores["notes"] = list(scores.get("notes", [])) + [f"appropriate sets: {sets_source}"]
        columns[f"{name} / react2025" if len(runs) > 1 else "react2025"] = scores
    lengths = [len(spk) for spk in speakers]
    context = {
        "dataset": str(reader.root),
        "layout": f"{reader.name} ({reader.fps} fps)",
        "split": split,
        "evaluated": ", ".join(runs),
        "rows (N)": len(pairs),
        "frames per row": f"{min(lengths)}..{max(lengths)}",
        "protocols": "react2025",
        "alignment": alignment,
        "tlcc": tlcc,
        "appropriate sets": sets_source,
        "device": device,
        "seconds": round(time.perf_counter() - started, 2),
    }
    warnings = out_of_range + _collapse_warnings(columns, set(predictions))
    return EvaluationReport(title or f"REACT 2025/2026 evaluation ({split})", context, columns, warnings)


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
