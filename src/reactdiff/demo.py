"""``reactdiff demo``: the whole job on the synthetic corpus, in one resumable command.

Stages (each leaves a marker in ``<out>/.stages/`` when done, so an interrupted demo re-run continues
where it stopped; training itself resumes from its last checkpoint):

1. write the synthetic corpus (REACT layout),
2. prepare the feature store,
3. train every stage of the method (ReactDiff: autoencoder, then latent diffusion) with the
   method's step budget, so the same command gives the same model on any machine,
4. generate K reactions for every val speaker,
5. evaluate them beside the five trivial baselines under both protocols -> ``report.md``,
6. render side-by-side videos and plots of a few speakers (only their speaker videos are drawn),
then print where everything is and the commands to run each stage on real REACT data.

Every stage is a library call (no command-line round trips), and the report is composed from the
evaluation's data.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from reactdiff.hardware import numerics
from reactdiff.io import save_json, save_text


@dataclass
class DemoConfig:
    """Settings of ``reactdiff demo``."""

    #: Synthetic corpus preset (tiny for a smoke test, small for the real demo).
    preset: str = "small"
    seed: int = 0
    #: Registered method to train (``reactdiff methods``).
    method: str = "reactdiff"
    #: The method's training budget (steps per stage): tiny, demo or long.
    budget: str = "demo"
    #: Optional wall-clock cap in minutes for all training stages together (null: none). A run the
    #: cap cuts short is not the documented model, and its report says so in its first lines.
    minutes: float | None = None
    #: Reactions generated per val speaker.
    samples: int = 10
    #: Val rows rendered as side-by-side videos and plots.
    render_rows: int = 2
    #: Draw the speaker's face video for the rendered rows (real footage in the side-by-side video).
    video: bool = True

    def validate(self) -> "DemoConfig":
        from reactdiff.errors import ConfigError
        from reactdiff.methods.registry import get_method

        get_method(self.method).budget(self.budget)
        if self.samples < 1:
            raise ConfigError(f"samples: must be positive, got {self.samples}")
        if self.render_rows < 0:
            raise ConfigError(f"render_rows: must not be negative, got {self.render_rows}")
        if self.minutes is not None and self.minutes <= 0:
            raise ConfigError(f"minutes: must be positive or null, got {self.minutes}")
        return self


class Demo:
    """Runs the stages of the demo in ``out`` (see module docstring)."""

    def __init__(self, out: str | Path, config: DemoConfig):
        from reactdiff.methods.registry import get_method

        self.out = Path(out)
        self.config = config.validate()
        self.method = get_method(config.method)
        self.data = self.out / "data"
        self.runs = self.out / "runs"
        self.predictions = self.out / "predictions_val.npz"
        self.report = self.out / "report.md"
        self.media = self.out / "media"

    def stages(self) -> list[tuple[str, str, Callable[[], None]]]:
        budget = self.method.budget(self.config.budget)
        stages = [
            ("corpus", f"writing the '{self.config.preset}' synthetic corpus", self.write_corpus),
            ("features", "preparing features", self.prepare),
        ]
        stages += [
            (stage.name, f"training {self.method.name} {stage.name} ({budget.get(stage.name, {}).get('steps', '?')} steps)",
             (lambda stage=stage: self.train(stage)))
            for stage in self.method.stages
        ]
        stages += [
            ("generate", f"generating {self.config.samples} reactions for every val speaker", self.generate),
            ("evaluate", "evaluating beside the trivial baselines and the oracle (both protocols)", self.evaluate),
            ("render", f"rendering {self.config.render_rows} speakers with their reactions", self.render),
        ]
        return stages

    def run(self) -> None:
        markers = self.out / ".stages"
        stages = self.stages()
        started = time.perf_counter()
        for number, (name, title, action) in enumerate(stages, start=1):
            marker = markers / f"{name}.json"
            if marker.is_file():
                print(f"[{number}/{len(stages)}] {title}: done earlier, skipped", flush=True)
                continue
            print(f"[{number}/{len(stages)}] {title}", flush=True)
            stage_start = time.perf_counter()
            facts = action() or {}
            save_json(marker, {"stage": name, "seconds": round(time.perf_counter() - stage_start, 1), **facts})
        self.summary(time.perf_counter() - started)

    # -- stages --------------------------------------------------------------------------------
    def write_corpus(self) -> None:
        from reactdiff.synth.settings import SynthConfig
        from reactdiff.synth.writer import write_dataset

        # Speaker videos are drawn later, only for the rows the demo renders.
        write_dataset(self.data, SynthConfig(preset=self.config.preset, seed=self.config.seed))

    def prepare(self) -> None:
        from reactdiff.data.prepare import PrepareConfig, prepare

        prepare(self.data, PrepareConfig())

    def train(self, stage) -> dict:
        from reactdiff.train.run import train_stage

        settings = dict(self.method.budget(self.config.budget).get(stage.name, {}), seed=self.config.seed)
        if self.config.minutes is not None:
            # The cap is shared by the stages in proportion to their step budgets.
            budget = self.method.budget(self.config.budget)
            total = sum(values.get("steps", 0) for values in budget.values()) or 1
            settings["max_minutes"] = self.config.minutes * settings.get("steps", 0) / total
        previous = self.runs / stage.requires if stage.requires else None
        result = train_stage(self.method.name, stage.name, self.data, self.runs / stage.name, settings=settings, previous=previous)
        return {"steps": result.step, "planned_steps": settings.get("steps"), "numerics": numerics()}

    def generate(self) -> None:
        from reactdiff.generation import generate_split
        from reactdiff.pipeline import ReactionModel

        model = ReactionModel.from_checkpoint(self.runs / self.method.stages[-1].name, device="auto")
        generate_split(model, self.data, "val", num_samples=self.config.samples, seed=self.config.seed).save(self.predictions)

    def training_facts(self) -> dict[str, dict]:
        """What each finished training stage recorded in its marker (steps, planned steps, numerics)."""
        markers = {stage.name: self.out / ".stages" / f"{stage.name}.json" for stage in self.method.stages}
        return {name: json.loads(marker.read_text()) for name, marker in markers.items() if marker.is_file()}

    def training_warnings(self) -> list[str]:
        """First lines of the report when training did not run its whole step budget."""
        warnings = []
        for name, facts in self.training_facts().items():
            planned, done = facts.get("planned_steps"), facts.get("steps")
            if planned is not None and done is not None and done < planned:
                warnings.append(
                    f"training was cut short by --minutes: {name} ran {done} of {planned} steps, so this model "
                    "is not the documented one and its numbers depend on this machine's speed"
                )
        return warnings

    def trained_with(self) -> dict[str, str]:
        """The report's line naming the numerics training ran with: the same steps and seed give the
        same digits only on the same line (docs/training.md)."""
        lines = {facts.get("numerics", "not recorded") for facts in self.training_facts().values()}
        return {"trained with": "; ".join(sorted(lines))} if lines else {}

    def evaluate(self) -> None:
        from reactdiff.evaluation import evaluate_split
        from reactdiff.trivial import references_for

        report = evaluate_split(
            self.data, "val", predictions={self.method.name: self.predictions}, baselines=references_for(self.data),
            seed=self.config.seed, title=f"reactdiff demo: {self.method.name} beside the trivial baselines",
        )
        report.warnings = self.training_warnings() + report.warnings
        report.context = {"method": self.method.title, "budget": self.config.budget, **self.trained_with(), **report.context}
        _, markdown = report.write(self.out / "evaluation", f"{self.predictions.stem}_metrics")
        save_text(self.report, markdown.read_text())
        print(report.table())

    def render(self) -> None:
        from reactdiff.data.layout import ReactLayout
        from reactdiff.parallel import run_jobs

        rows = min(self.config.render_rows, len(ReactLayout(self.data).eval_order("val")))
        # Drawing faces is single-threaded Python and PIL, so rows are drawn in parallel processes,
        # one per core (the demo's render stage: 75.5 s for two rows one after the other, 54.6 s in parallel).
        jobs = [(self.data, self.predictions, self.media, row, self.config.video) for row in range(rows)]
        run_jobs(render_demo_row, jobs, workers=max(1, min(rows, os.cpu_count() or 1)), on_result=print)

    def summary(self, seconds: float) -> None:
        timings = {p.stem: json.loads(p.read_text())["seconds"] for p in sorted((self.out / ".stages").glob("*.json"))}
        print(f"\nDemo finished in {seconds / 60:.1f} min this run; stage times (s): {timings}")
        print(f"  corpus:       {self.data}")
        print(f"  checkpoints:  {', '.join(str(self.runs / stage.name) for stage in self.method.stages)}")
        print(f"  predictions:  {self.predictions}")
        print(f"  report:       {self.report}")
        print(f"  videos/plots: {self.media}")
        print(REAL_DATA_COMMANDS)


def render_demo_row(data: Path, predictions: Path, media: Path, row: int, video: bool) -> str:
    """One rendered row of the demo (a module-level function, so a process pool can run it): its
    speaker and listener videos when drawn, the grid video and the plots."""
    from reactdiff.data.layout import ReactLayout
    from reactdiff.render.rows import plot_row, render_row

    if video:
        from reactdiff.synth.writer import write_clip_videos

        pair = ReactLayout(data).eval_order("val")[row]
        write_clip_videos(data, "val", [pair.speaker, pair.listener])
    path = render_row(predictions, row, media / f"val_row{row}.mp4", data=data)
    plot_row(predictions, row, media / f"val_row{row}_plots", data=data)
    return f"rendered val row {row}: {path}"


REAL_DATA_COMMANDS = """
On the real REACT data (licence-gated; point ROOT at the organisers' release):
  reactdiff data check ROOT
  reactdiff prepare ROOT
  reactdiff train reactdiff --data ROOT --out runs/reactdiff          # both stages; or one: train reactdiff autoencoder ...
  reactdiff generate --checkpoint runs/reactdiff/diffusion --data ROOT --split test --samples 10 --out predictions_test.npz
  reactdiff evaluate --data ROOT --split test --predictions predictions_test.npz --protocol both
  reactdiff render --predictions predictions_test.npz --data ROOT --split test --index 0 --out reaction.mp4
Other methods: `reactdiff methods`, then `reactdiff train METHOD ...` the same way.
On your own clip:
  reactdiff react speaker.mp4 --checkpoint runs/reactdiff/diffusion --out my_reactions
"""
