"""``reactdiff demo``: the whole job on the synthetic corpus, in one resumable command.

Stages (each leaves a marker in ``<out>/.stages/`` when done, so an interrupted demo re-run continues
where it stopped; training itself resumes from its last checkpoint):

1. write the synthetic corpus (REACT layout, with speaker videos),
2. prepare the feature store,
3. train the behaviour autoencoder, then 4. the latent diffusion model, within a time budget,
5. generate K reactions for every val speaker,
6. evaluate them beside the five trivial baselines under both protocols -> ``report.md``,
7. render side-by-side videos and plots of a few speakers,
then print where everything is and the commands to run each stage on real REACT data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from reactdiff.cli import main as cli
from reactdiff.errors import ReactDiffError
from reactdiff.io import save_json

#: Share of the training budget given to stage 1 (the autoencoder converges faster).
AUTOENCODER_SHARE = 0.3


@dataclass
class DemoConfig:
    """Settings of ``reactdiff demo``."""

    #: Synthetic corpus preset (tiny for a smoke test, small for the real demo).
    preset: str = "small"
    seed: int = 0
    #: Training budget in minutes for both stages together (wall clock).
    minutes: float = 10.0
    #: Training batch and crop, smaller than the published 16 x 750 so that a CPU makes enough
    #: optimizer steps inside the budget (crops are multiples of the 50-frame window).
    batch_size: int = 8
    crop_frames: int = 100
    #: Learning rates and warm-up for a budget of minutes rather than the published 200 epochs
    #: (the published 1e-4 / 5e-5 barely move a model in a few hundred CPU steps; stage 2 at
    #: 2e-4 / 5e-4 / 1e-3 gave val FRDist 123.7 / 119.3 / 122.3 in 7 minutes, docs/results.md).
    autoencoder_lr: float = 5e-4
    diffusion_lr: float = 5e-4
    warmup_steps: int = 50
    #: Reactions generated per val speaker.
    samples: int = 10
    #: Val rows rendered as side-by-side videos and plots.
    render_rows: int = 2
    #: Render the corpus' speaker videos (slower; needed for videos with the speaker's face).
    video: bool = True


class Demo:
    """Runs the stages of the demo in ``out`` (see module docstring)."""

    def __init__(self, out: str | Path, config: DemoConfig):
        self.out = Path(out)
        self.config = config
        self.data = self.out / "data"
        self.runs = self.out / "runs"
        self.predictions = self.out / "predictions_val.npz"
        self.report = self.out / "report.md"
        self.media = self.out / "media"

    def stages(self) -> list[tuple[str, str, Callable[[], None]]]:
        minutes = self.config.minutes
        return [
            ("corpus", f"writing the '{self.config.preset}' synthetic corpus", self.write_corpus),
            ("features", "preparing features", lambda: self._cli(["prepare", str(self.data)])),
            ("autoencoder", f"training the behaviour autoencoder ({minutes * AUTOENCODER_SHARE:.1f} min budget)", self.train_autoencoder),
            ("diffusion", f"training the latent diffusion model ({minutes * (1 - AUTOENCODER_SHARE):.1f} min budget)", self.train_diffusion),
            ("generate", f"generating {self.config.samples} reactions for every val speaker", self.generate),
            ("evaluate", "evaluating beside the trivial baselines (both protocols)", self.evaluate),
            ("render", f"rendering {self.config.render_rows} speakers with their reactions", self.render),
        ]

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
            action()
            save_json(marker, {"stage": name, "seconds": round(time.perf_counter() - stage_start, 1)})
        self.summary(time.perf_counter() - started)

    # -- stages --------------------------------------------------------------------------------
    def _cli(self, argv: list[str]) -> None:
        status = cli(argv)
        if status:
            raise ReactDiffError(f"stage command failed with status {status}: reactdiff {' '.join(argv)}")

    def write_corpus(self) -> None:
        argv = ["synth", str(self.data), "--preset", self.config.preset, "--seed", str(self.config.seed)]
        self._cli(argv + (["--video"] if self.config.video else []))

    def _train(self, stage: str, minutes: float, extra: list[str]) -> None:
        run_dir = self.runs / stage
        argv = ["train", stage, "--data", str(self.data), "--out", str(run_dir), "--max_minutes", f"{minutes:.3f}", "--seed", str(self.config.seed),
                "--batch_size", str(self.config.batch_size), "--crop_frames", str(self.config.crop_frames),
                "--optim.warmup_steps", str(self.config.warmup_steps)]
        if (run_dir / "last").is_dir():
            argv.append("--resume")  # an interrupted demo continues training where it stopped
        self._cli(argv + extra)

    def train_autoencoder(self) -> None:
        self._train("autoencoder", self.config.minutes * AUTOENCODER_SHARE, ["--optim.lr", str(self.config.autoencoder_lr)])

    def train_diffusion(self) -> None:
        self._train("diffusion", self.config.minutes * (1 - AUTOENCODER_SHARE),
                    ["--autoencoder", str(self.runs / "autoencoder"), "--optim.lr", str(self.config.diffusion_lr)])

    def generate(self) -> None:
        self._cli([
            "generate", "--checkpoint", str(self.runs / "diffusion"), "--data", str(self.data), "--split", "val",
            "--samples", str(self.config.samples), "--seed", str(self.config.seed), "--out", str(self.predictions),
        ])

    def evaluate(self) -> None:
        from reactdiff.io import save_text

        evaluation = self.out / "evaluation"
        self._cli([
            "evaluate", "--data", str(self.data), "--split", "val", "--predictions", str(self.predictions),
            "--baselines", "--protocol", "both", "--seed", str(self.config.seed), "--out", str(evaluation),
        ])
        # The evaluation writes <stem>_metrics.{md,json}; report.md is the demo's front page for it.
        table = (evaluation / f"{self.predictions.stem}_metrics.md").read_text()
        save_text(self.report, table.replace("# REACT evaluation", "# reactdiff demo: ReactDiff beside the trivial baselines", 1))

    def render(self) -> None:
        for row in range(self.config.render_rows):
            self._cli(["render", "--predictions", str(self.predictions), "--data", str(self.data), "--split", "val",
                       "--index", str(row), "--out", str(self.media / f"val_row{row}.mp4")])
            self._cli(["plot", "--predictions", str(self.predictions), "--data", str(self.data), "--split", "val",
                       "--index", str(row), "--out", str(self.media / f"val_row{row}_plots")])

    def summary(self, seconds: float) -> None:
        timings = {p.stem: json.loads(p.read_text())["seconds"] for p in sorted((self.out / ".stages").glob("*.json"))}
        print(f"\nDemo finished in {seconds / 60:.1f} min this run; stage times (s): {timings}")
        print(f"  corpus:       {self.data}")
        print(f"  checkpoints:  {self.runs / 'autoencoder'}, {self.runs / 'diffusion'}")
        print(f"  predictions:  {self.predictions}")
        print(f"  report:       {self.report}")
        print(f"  videos/plots: {self.media}")
        print(REAL_DATA_COMMANDS)


REAL_DATA_COMMANDS = """
On the real REACT data (licence-gated; point ROOT at the organisers' release):
  reactdiff data check ROOT
  reactdiff prepare ROOT
  reactdiff train autoencoder --data ROOT --out runs/autoencoder
  reactdiff train diffusion --data ROOT --autoencoder runs/autoencoder --out runs/diffusion
  reactdiff generate --checkpoint runs/diffusion --data ROOT --split test --samples 10 --out predictions_test.npz
  reactdiff evaluate --data ROOT --split test --predictions predictions_test.npz --protocol both
  reactdiff render --predictions predictions_test.npz --data ROOT --split test --index 0 --out reaction.mp4
On your own clip:
  reactdiff react speaker.mp4 --checkpoint runs/diffusion --out my_reactions
"""
