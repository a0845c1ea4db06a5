"""`reactdiff train reactdiff --recipe paper` end to end at test sizes: the published training
(whole 750-frame clips, no warm-up or decay, 20 diffusion steps, the authors' networks) through
the one documented command, with the sizes shrunk by a config file's per-stage sections."""

from __future__ import annotations

import json

from reactdiff.cli import main
from reactdiff.predictions import Predictions

TINY_PAPER = """
autoencoder:
  steps: 2
  batch_size: 2
  val_every: 2
  checkpoint_every: 2
  device: cpu
  model:
    autoencoder: {hidden_dim: 16, num_heads: 2, latent_dim: 8, decoder_heads: 2, decoder_ff_dim: 16}
    denoiser: {model_channels: 8, cond_dim: 16}
diffusion:
  steps: 2
  batch_size: 2
  val_every: 2
  checkpoint_every: 2
  device: cpu
"""


def test_paper_recipe_trains_and_generates_at_test_size(tmp_path):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--preset", "tiny", "--no-progress"]) == 0
    assert main(["prepare", str(data)]) == 0
    config = tmp_path / "tiny_paper.yaml"
    config.write_text(TINY_PAPER)
    run = tmp_path / "run"
    assert main(["train", "reactdiff", "--recipe", "paper", "--config", str(config), "--data", str(data), "--out", str(run)]) == 0
    for stage in ("autoencoder", "diffusion"):
        settings = json.loads((run / stage / "train_config.json").read_text())
        # The recipe's training, the sizes from the file.
        assert settings["crop_frames"] == 750 and settings["optim"]["warmup_steps"] == 0 and settings["optim"]["milestones"] == []
        assert settings["model"]["denoiser"]["attention_levels"] == [1, 2, 4] and settings["model"]["denoiser"]["unet_heads"] == 1
        assert settings["model"]["diffusion"]["train_steps"] == 20 and settings["model"]["autoencoder"]["decoder"] == "two_stacks"
        assert settings["model"]["autoencoder"]["hidden_dim"] == 16
    out = tmp_path / "predictions.npz"
    assert main(["generate", "--checkpoint", str(run / "diffusion"), "--data", str(data), "--samples", "2", "--out", str(out), "--device", "cpu"]) == 0
    assert Predictions.load(out).emotion.shape[1:] == (2, 750, 25)
