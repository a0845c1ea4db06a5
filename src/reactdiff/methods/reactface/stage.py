"""ReactFace's one training stage: three stochastic passes per step, all with gradients; the first
gives the neighbour (min over appropriate reactions), KL, smoothness and speaker-reconstruction
terms, the three together the diversity term (the original's ``train.py``)."""

from __future__ import annotations

import itertools


import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.methods.reactface.config import ReactFaceConfig
from reactdiff.methods.reactface.model import EXPRESSION_DIMS, ReactFaceModel
from reactdiff.methods.reactface.neighbours import AppropriateReactions


def diversity(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Batch mean of exp(-||Y1_b - Y2_b||^2 / 100) over each sample flattened to one vector."""
    distance = (first - second).flatten(1).pow(2).sum(-1)
    return torch.exp(-distance / 100).mean()


def smoothness(coeffs: torch.Tensor) -> torch.Tensor:
    """SmoothL1 between successive velocities: pose + 0.1 x expression."""
    velocity = coeffs[:, 1:] - coeffs[:, :-1]
    pose = F.smooth_l1_loss(velocity[:, 1:, EXPRESSION_DIMS:], velocity[:, :-1, EXPRESSION_DIMS:])
    expression = F.smooth_l1_loss(velocity[:, 1:, :EXPRESSION_DIMS], velocity[:, :-1, :EXPRESSION_DIMS])
    return pose + 0.1 * expression


def neighbour_loss(config: ReactFaceConfig, coeffs: torch.Tensor, emotion: torch.Tensor, listener: dict) -> torch.Tensor:
    """Min over the appropriate reactions of SmoothL1 on expression + pose_weight x pose +
    emotion_weight x emotion, the three from the same reaction (the original takes the expression
    and pose minima separately); mean over the batch. Empty slots are masked (the original pads
    them with 1e5)."""
    def per_reaction(prediction, target):  # (B, T, D), (B, N, T, D) -> (B, N)
        return F.smooth_l1_loss(prediction[:, None].expand_as(target), target, reduction="none").mean((2, 3))

    targets = listener["neighbour_3dmm"]
    losses = (per_reaction(coeffs[..., :EXPRESSION_DIMS], targets[..., :EXPRESSION_DIMS])
              + config.pose_weight * per_reaction(coeffs[..., EXPRESSION_DIMS:], targets[..., EXPRESSION_DIMS:])
              + config.emotion_weight * per_reaction(emotion, listener["neighbour_emotion"]))
    losses = losses.masked_fill(listener["neighbour_mask"] == 0, float("inf"))
    return losses.min(dim=1).values.mean()


def kl_divergence(distributions: list) -> torch.Tensor:
    """KL(N(mu, sigma) || N(0, I)), element mean, averaged over windows."""
    terms = [0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean() for mu, logvar in distributions]
    return torch.stack(terms).mean()


class ReactFaceStage:
    name = "reaction"
    finish_changes_weights = False
    manifest_on_finish: dict = {}

    def data_streams(self, model_config: ReactFaceConfig) -> tuple[str, ...]:
        """Speaker inputs plus the listener targets and the speaker's 3DMM (auxiliary loss)."""
        return tuple(dict.fromkeys(tuple(model_config.streams) + ("3dmm", "emotion")))

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        model.requires_grad_(True)
        return list(model.parameters())

    def datasets(self, model: ReactFaceModel, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train crops with the train split's appropriate reactions (required); val: the first
        ``crop_frames`` frames of every val pair against the val matrix (or the true listener
        alone when the dataset has none)."""
        config = model.config
        train = AppropriateReactions(data_root, "train", config.streams, crop_frames, True, config.max_neighbours)
        if not train.pairs.layout.has_split("val"):
            return train, None
        val = AppropriateReactions(data_root, "val", config.streams, crop_frames, False, config.max_neighbours, require_matrix=False)
        return train, val if len(val) else None

    def loss(self, model: ReactFaceModel, batch: dict, generator: torch.Generator | None):
        config = model.config
        speaker = {name: batch["speaker"][name] for name in config.streams}
        first = model.react(speaker, generator, speaker_head=True)
        others = [model.react(speaker, generator) for _ in range(2)]
        rec = neighbour_loss(config, first["coeffs_3dmm"], first["emotion"], batch["listener"])
        kl = kl_divergence(first["distributions"])
        passes = [first, *others]
        div = sum(diversity(a[key], b[key]) for a, b in itertools.combinations(passes, 2) for key in ("coeffs_3dmm", "emotion"))
        smooth = smoothness(first["coeffs_3dmm"])
        speaker_rec = F.smooth_l1_loss(first["speaker_3dmm"], batch["speaker"]["3dmm"])
        loss = (rec + config.kl_weight * kl + config.div_weight * div + config.smooth_weight * smooth
                + config.speaker_weight * speaker_rec)
        logs = {"rec": rec.detach(), "kl": kl.detach(), "div": div.detach(), "smooth": smooth.detach(), "speaker": speaker_rec.detach()}
        return loss, logs

    def validation_loss(self, model: ReactFaceModel, batch: dict, generator: torch.Generator | None) -> torch.Tensor:
        """The training loss without its diversity reward: what keeps the best checkpoint.

        The reward (x 100) dominates the training loss once reconstruction has converged, and it
        only says how far apart three passes are: with it, the demo benchmark's validation kept
        step 100 (neighbour term 0.385 on val, FRDist 280) over step 200 (0.151), see
        docs/methods/reactface.md.
        """
        config = model.config
        first = model.react({name: batch["speaker"][name] for name in config.streams}, generator, speaker_head=True)
        # The same terms as ``loss`` writes out: sharing a helper would create them before the
        # diversity term there, and autograd's accumulation order would change training's bits.
        return (neighbour_loss(config, first["coeffs_3dmm"], first["emotion"], batch["listener"])
                + config.kl_weight * kl_divergence(first["distributions"])
                + config.smooth_weight * smoothness(first["coeffs_3dmm"])
                + config.speaker_weight * F.smooth_l1_loss(first["speaker_3dmm"], batch["speaker"]["3dmm"]))

    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Nothing to add after training."""
