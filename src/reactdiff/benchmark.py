"""``reactdiff benchmark``: every registered method trained with the same step budget, generated with
several seeds, and scored under both protocols beside the trivial baselines and the oracle.

    reactdiff benchmark --data data/small --budget demo --seeds 5 --out bench/demo

For each method and training seed: train every stage (``train_method``, resumable), record steps,
training wall time and the parameter count, time one 30 s clip with K = 10; for each generation
seed: generate the split and evaluate it (official and corrected protocols). Every artefact is
cached in ``--out`` (runs/, predictions/, scores/), so an interrupted benchmark resumes where it
stopped. ``benchmark.json`` and ``benchmark.md`` hold mean +- std over seeds of every metric, the
distance of each to the oracle's (on synthetic corpora) and how much of the gap between copying the
speaker (``mime``) and the oracle each method closes on FRDist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reactdiff.errors import ConfigError
from reactdiff.hardware import hardware
from reactdiff.io import load_json, save_json, save_text

#: Metrics summarised per protocol (all of them go to benchmark.json).
TABLE_METRICS = ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRSyn", "FD-emotion-window")
#: Which direction is better, for the distance to the oracle.
HIGHER_IS_BETTER = {"FRCorr", "FRCorr_per_reaction", "FRDiv", "FRVar", "FRDvs"}
#: References whose output does not depend on the seed (evaluated once).
DETERMINISTIC = {"gt", "mime", "mean-seq", "mean-frame"}


def split_row(name: str) -> tuple[str, str | None]:
    """A method row ``METHOD`` or ``METHOD:RECIPE`` as (method, recipe or None)."""
    method, _, recipe = name.partition(":")
    return method, recipe or None


def _slug(name: str) -> str:
    """A row name as a folder name (``reactdiff:paper`` -> ``reactdiff-paper``)."""
    return name.replace(":", "-")


@dataclass
class BenchmarkConfig:
    """Settings of ``reactdiff benchmark``."""

    #: Registered methods to train ("all" = every one). ``METHOD:RECIPE`` adds a row trained with
    #: one of the method's named recipes (its own settings and steps, whatever ``budget`` is), e.g.
    #: ``reactdiff:paper``, the published networks and training, beside the default.
    methods: tuple[str, ...] = ("all",)
    #: Step budget level of every method: tiny (CI), demo (minutes on 2 CPU cores), long (about an hour).
    budget: str = "demo"
    #: Generation seeds per trained model.
    seeds: int = 5
    #: Training seeds per method (null: 1, or 2 at the long budget).
    train_seeds: int | None = None
    samples: int = 10
    split: str = "val"
    device: str = "auto"

    def resolved_methods(self) -> tuple[str, ...]:
        from reactdiff.methods.registry import METHODS, get_method

        names = tuple(METHODS) + tuple(m for m in self.methods if m != "all" and m not in METHODS) if "all" in self.methods else tuple(self.methods)
        for name in names:
            method, recipe = split_row(name)
            get_method(method).budget(recipe or self.budget)  # unknown method, recipe or budget: a one-line error now
        return tuple(dict.fromkeys(names))

    def validate(self) -> "BenchmarkConfig":
        self.resolved_methods()
        for name in ("seeds", "samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be positive, got {getattr(self, name)}")
        if self.train_seeds is not None and self.train_seeds < 1:
            raise ConfigError(f"train_seeds: must be positive, got {self.train_seeds}")
        if self.split not in ("val", "test"):
            raise ConfigError(f"split: val or test, got {self.split!r}")
        return self

    @property
    def training_seeds(self) -> int:
        return self.train_seeds if self.train_seeds is not None else (2 if self.budget == "long" else 1)


class Benchmark:
    def __init__(self, data: str | Path, out: str | Path, config: BenchmarkConfig):
        self.data, self.out, self.config = Path(data), Path(out), config.validate()

    # ----- one method ---------------------------------------------------------------------
    def train(self, name: str, seed: int) -> dict[str, Any]:
        """Train (or finish) one method at one training seed; returns its training facts."""
        from reactdiff.checkpoint import load_checkpoint
        from reactdiff.methods.registry import get_method
        from reactdiff.train.run import train_method

        base, recipe = split_row(name)
        method = get_method(base)
        run = self.out / "runs" / _slug(name) / f"seed{seed}"
        marker = run / "trained.json"
        if not marker.is_file():
            budget = method.budget(recipe or self.config.budget)
            settings = {stage: dict(values, seed=seed, device=self.config.device) for stage, values in budget.items()}
            train_method(base, self.data, run, settings=settings)
            stages = {}
            for stage in method.stages:
                state = load_checkpoint(run / stage.name / "last").training_state or {}
                # elapsed_seconds accumulates over resumed sessions: the real training time.
                stages[stage.name] = {"steps": int(state.get("step", 0)), "seconds": round(float(state.get("elapsed_seconds", 0.0)), 1)}
            save_json(marker, {"stages": stages})
        return load_json(marker)

    def timing(self, name: str, model) -> dict[str, Any]:
        """Seconds to generate K reactions of one 30 s clip (750 frames), best of three."""
        path = self.out / "timing" / f"{_slug(name)}.json"
        if not path.is_file():
            rng = np.random.default_rng(0)
            speaker = {stream: rng.normal(size=(750, int(model.streams[stream]["dim"]))).astype(np.float32) for stream in model.stream_names}
            model.generate(speaker, num_samples=self.config.samples, seed=0)  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                model.generate(speaker, num_samples=self.config.samples, seed=0)
                times.append(time.perf_counter() - start)
            save_json(path, {"seconds": round(min(times), 3), "device": str(model.device)})
        return load_json(path)

    def scores(self, name: str, predictions=None, seed: int = 0, tag: str = "") -> dict[str, dict[str, Any]]:
        """``{protocol: scores}`` of a method's predictions file or of a reference row (cached)."""
        from reactdiff.evaluation import evaluate_split

        path = self.out / "scores" / f"{_slug(name)}{tag}.json"
        if not path.is_file():
            report = evaluate_split(
                self.data, self.config.split, predictions={name: predictions} if predictions is not None else None,
                baselines=() if predictions is not None else (name,), num_samples=self.config.samples, seed=seed,
                device="cpu",
            )
            columns = {key.rpartition(" / ")[2] if " / " in key else key: value for key, value in report.columns.items()}
            save_json(path, _json_safe(columns))
        return load_json(path)

    def run(self) -> dict[str, Any]:
        from reactdiff.generation import generate_split
        from reactdiff.methods.registry import get_method
        from reactdiff.pipeline import ReactionModel
        from reactdiff.trivial import references_for

        started = time.perf_counter()
        results: dict[str, Any] = {"methods": {}, "references": {}}
        for name in self.config.resolved_methods():
            base, recipe = split_row(name)
            method = get_method(base)
            entry: dict[str, Any] = {"title": method.title + (f" ({recipe} recipe)" if recipe else ""), "runs": []}
            for train_seed in range(self.config.training_seeds):
                print(f"[benchmark] {name}: training seed {train_seed} ({recipe or self.config.budget} {'recipe' if recipe else 'budget'})", flush=True)
                facts = self.train(name, train_seed)
                final = self.out / "runs" / _slug(name) / f"seed{train_seed}" / method.stages[-1].name
                model = ReactionModel.from_checkpoint(final, device=self.config.device)
                if train_seed == 0:
                    entry["parameters"] = method.describe(model.model)
                    entry["generation"] = self.timing(name, model)
                for seed in range(self.config.seeds):
                    predictions = self.out / "predictions" / _slug(name) / f"train{train_seed}_gen{seed}.npz"
                    if not predictions.is_file():
                        print(f"[benchmark] {name}: generating (training seed {train_seed}, generation seed {seed})", flush=True)
                        generate_split(model, self.data, self.config.split, num_samples=self.config.samples, seed=seed, progress=False).save(predictions)
                    scores = self.scores(name, predictions, tag=f"_train{train_seed}_gen{seed}")
                    entry["runs"].append({"train_seed": train_seed, "seed": seed, "training": facts, "scores": scores})
            results["methods"][name] = entry
        for name in references_for(self.data):
            seeds = 1 if name in DETERMINISTIC else self.config.seeds
            print(f"[benchmark] reference {name}", flush=True)
            results["references"][name] = {"runs": [{"seed": seed, "scores": self.scores(name, seed=seed, tag=f"_gen{seed}")} for seed in range(seeds)]}
        results["summary"] = summarise(results)
        results["setup"] = {
            "data": str(self.data), "split": self.config.split, "budget": self.config.budget, "seeds": self.config.seeds,
            "train_seeds": self.config.training_seeds, "samples": self.config.samples, "hardware": hardware(),
            "methods": list(self.config.methods),
            "seconds_this_run": round(time.perf_counter() - started, 1),
        }
        save_json(self.out / "benchmark.json", _json_safe(results))
        save_text(self.out / "benchmark.md", render_markdown(results))
        return results


def _json_safe(value):
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def _mean_std(values: list[float]) -> dict[str, float] | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0, "n": len(values)}


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Mean +- std of every metric per row and protocol, distances to the oracle, FRDist gap closed."""
    rows: dict[str, Any] = {}
    for group in ("methods", "references"):
        for name, entry in results[group].items():
            per_protocol: dict[str, dict[str, Any]] = {}
            for run in entry["runs"]:
                for protocol, scores in run["scores"].items():
                    for metric, value in scores.items():
                        if isinstance(value, (int, float)) and not isinstance(value, bool):
                            per_protocol.setdefault(protocol, {}).setdefault(metric, []).append(value)
            rows[name] = {protocol: {m: _mean_std(v) for m, v in metrics.items()} for protocol, metrics in per_protocol.items()}
    summary: dict[str, Any] = {"rows": rows}
    oracle, mime = rows.get("oracle"), rows.get("mime")
    if oracle:
        distance = {}
        for name in results["methods"]:
            distance[name] = {}
            for protocol, metrics in rows[name].items():
                for metric, stats in metrics.items():
                    reference = oracle.get(protocol, {}).get(metric)
                    if stats and reference:
                        sign = -1 if metric in HIGHER_IS_BETTER else 1
                        distance[name].setdefault(protocol, {})[metric] = sign * (stats["mean"] - reference["mean"])
        summary["distance_to_oracle"] = distance
        headline = _headline_protocol(rows)
        if mime and headline in mime and headline in oracle:
            closed = {}
            for name in results["methods"]:
                method_frdist = rows[name].get(headline, {}).get("FRDist")
                mime_frdist, oracle_frdist = mime[headline]["FRDist"]["mean"], oracle[headline]["FRDist"]["mean"]
                if method_frdist and mime_frdist != oracle_frdist:
                    closed[name] = (mime_frdist - method_frdist["mean"]) / (mime_frdist - oracle_frdist)
            summary["frdist_gap_closed"] = closed
    return summary


def _protocols(rows: dict[str, Any]) -> list[str]:
    """The protocols scored, in report order (REACT 2024: corrected, official; MARS: react2025)."""
    found = {protocol for row in rows.values() for protocol in row}
    return [p for p in ("corrected", "official", "react2025") if p in found] + sorted(found - {"corrected", "official", "react2025"})


def _headline_protocol(rows: dict[str, Any]) -> str:
    protocols = _protocols(rows)
    return protocols[0] if protocols else "corrected"


def _cell(stats) -> str:
    if not stats:
        return "-"
    return f"{stats['mean']:.4f}" if stats["n"] == 1 else f"{stats['mean']:.4f} ± {stats['std']:.4f}"


def render_markdown(results: dict[str, Any]) -> str:
    setup, summary = results["setup"], results["summary"]
    rows = summary["rows"]
    lines = [
        f"# reactdiff benchmark ({setup['budget']} budget, {setup['split']} split)", "",
        f"- data: {setup['data']}; K = {setup['samples']} reactions per speaker",
        f"- {setup['train_seeds']} training seed(s) x {setup['seeds']} generation seed(s) per method; cells are mean ± std over them",
        f"- hardware: {setup['hardware']}",
        f"- command: reactdiff benchmark --data {setup['data']} --budget {setup['budget']} --seeds {setup['seeds']} --train_seeds {setup['train_seeds']}"
        + (f" --methods {' '.join(setup['methods'])}" if setup.get("methods") and setup["methods"] != ["all"] else ""),
        "",
    ]
    for protocol in _protocols(rows):
        lines += [f"## {protocol} protocol", "", "| row | " + " | ".join(TABLE_METRICS) + " |", "|---|" + "---:|" * len(TABLE_METRICS)]
        for name in [*results["methods"], *results["references"]]:
            metrics = rows.get(name, {}).get(protocol, {})
            lines.append(f"| {name} | " + " | ".join(_cell(metrics.get(m)) for m in TABLE_METRICS) + " |")
        lines.append("")
    lines += ["## Training and generation", "",
              "| method | parameters | training steps (per stage) | training wall time (s; each training seed) | 30 s clip, K reactions (s) |",
              "|---|---:|---|---:|---:|"]
    for name, entry in results["methods"].items():
        # Every generation seed of a training seed repeats its training facts: one entry per training seed.
        trainings = {run["train_seed"]: run["training"]["stages"] for run in entry["runs"]}
        stages = next(iter(trainings.values()), {})
        steps = ", ".join(f"{stage} {facts['steps']}" for stage, facts in stages.items())
        seconds = " / ".join(f"{sum(facts['seconds'] for facts in done.values()):.0f}" for done in trainings.values())
        lines.append(f"| {name} | {entry['parameters']['total'] / 1e6:.2f} M | {steps} | {seconds} | {entry['generation']['seconds']:.3f} ({entry['generation']['device']}) |")
    lines.append("")
    if "distance_to_oracle" in summary:
        headline = _headline_protocol(rows)
        lines += [f"## Distance to the oracle ({headline} protocol; positive = worse than the oracle)", "",
                  "| method | " + " | ".join(TABLE_METRICS) + " | FRDist gap mime -> oracle closed |", "|---|" + "---:|" * (len(TABLE_METRICS) + 1)]
        for name in results["methods"]:
            distance = summary["distance_to_oracle"].get(name, {}).get(headline, {})
            closed = summary.get("frdist_gap_closed", {}).get(name)
            cells = [f"{distance[m]:.4f}" if m in distance else "-" for m in TABLE_METRICS]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {'-' if closed is None else f'{100 * closed:.1f} %'} |")
        lines.append("")
    lines.append("Training budgets are optimizer steps: the same command gives the same models, busy or idle, wherever the "
                 "hardware line's numerics (torch build, kernels, CPU vendor, threads) are the same; another CPU kind rounds "
                 "matrix products differently and trains a different model of similar quality (docs/training.md). "
                 "Wall times are this machine's.")
    return "\n".join(lines) + "\n"


def run_benchmark(data: str | Path, out: str | Path, config: BenchmarkConfig | None = None) -> dict[str, Any]:
    return Benchmark(data, out, config or BenchmarkConfig()).run()


__all__ = ["Benchmark", "BenchmarkConfig", "run_benchmark"]
