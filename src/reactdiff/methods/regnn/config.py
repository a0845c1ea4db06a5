"""Configuration dataclasses of REGNN (defaults = the ``default`` preset = the original's sizes).

Every field is a ``--model.<section>.<field>`` flag and travels as JSON beside every checkpoint.
The sizes and settings are those of the REACT 2024 baseline's ``regnn/`` (``scripts/train.sh``),
as written down in ``shared/spec/PEER_MODELS.md`` section 4; where ours differ the field says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reactdiff.methods.base import OptimConfig, TrainConfig


@dataclass
class PerceptualConfig:
    """The perceptual processor: MulT (Tsai et al., 2019), video queries cross-attending to audio,
    then self-attention, then a residual head to ``out_dim`` features per frame."""

    #: Width both modalities are projected to (Conv1d, kernel 1, no bias).
    width: int = 128
    heads: int = 4
    #: Layers of the cross-modal encoder (video queries, audio keys/values).
    cross_layers: int = 5
    #: Layers of the self-attention encoder on its output (the original asks for 3 and builds
    #: max(5, 3) = 5, which is what we keep).
    self_layers: int = 5
    #: Feed-forward width = ``ff_mult * width`` (ReLU).
    ff_mult: int = 4
    #: Per-frame feature size handed to the cognitive processor.
    out_dim: int = 64
    #: Dropout on the scaled, position-embedded inputs, on attention weights, after the ReLU, and
    #: on each residual branch (MulT's embed/attn/relu/res dropouts as the original sets them).
    embed_dropout: float = 0.25
    attn_dropout: float = 0.0
    relu_dropout: float = 0.1
    res_dropout: float = 0.1


@dataclass
class CognitiveConfig:
    """The cognitive processor: per-frame features -> 25 emotion nodes (the speaker latent) and the
    multi-channel edges between them."""

    #: Hidden width of the per-frame Mlp(out_dim -> hidden -> 25, GELU).
    hidden_dim: int = 32
    #: Edge channels (attention maps between the 25 nodes).
    edge_channels: int = 8
    #: Kept edges per node (plus the self-loop) when the edges are sparsified.
    edge_neighbours: int = 5
    #: ``per_row``: every node keeps its own strongest ``edge_neighbours`` edges (our fix).
    #: ``union``: every node keeps the union of ALL nodes' strongest columns, as the original code
    #: does (its ``clip`` loops over every row's top-k for every row; a defect, kept for parity runs).
    edge_mask: Literal["per_row", "union"] = "per_row"


@dataclass
class MotorConfig:
    """The motor processor: an invertible graph flow of Lipschitz-constrained residual layers."""

    #: Graph layers, each ActNorm then y = x + f(x, E).
    layers: int = 2
    #: f is divided by ||I + 2 W_q W_k^T / sqrt(frames)||_2 + margin (no gradient through it).
    lipschitz_margin: float = 5.0
    #: Fixed-point iterations x <- y - f(x) per layer when inverting, at most (the original: 5,
    #: asserting convergence to 1e-3 and crashing otherwise; ours iterates to ``inverse_tolerance``
    #: and warns if it is not reached).
    inverse_iterations: int = 50
    inverse_tolerance: float = 1e-6
    #: ActNorm's data-dependent initialisation: per-node std over the first training batch
    #: (plus ``actnorm_eps`` under the square root, as the original).
    actnorm_eps: float = 1e-5
    #: Smallest std the initialisation divides by. The original's only floor is sqrt(eps): an AU
    #: that barely fires in the first batch gets a scale near 300, and every later batch where it
    #: fires blows the motor latents up (on the demo budget: MidLoss 1e5-1e6, grad norm 1e6; see
    #: docs/methods/regnn.md). 0 reproduces the original (``paper`` preset).
    actnorm_min_std: float = 0.1


@dataclass
class ModelConfig:
    """The whole REGNN model plus the settings of its objective and sampling."""

    #: Speaker input streams: the ``visual`` ones are concatenated into the video input (the
    #: original: 768-d Swin-T features), the ``audio`` ones into the audio input (VGGish 128-d).
    streams: tuple[str, ...] = ("emotion", "3dmm", "mfcc")
    #: Audio inputs are standardised per dimension with train-split statistics (MFCC spans tens of
    #: units; the original's VGGish values were quantised to [0, 255] and fed raw). Visual inputs
    #: stay raw (emotion as stored, 3DMM minus the mean face), as the original.
    standardize_audio: bool = True
    #: Frames per window (= the node feature size of the graph) and the window stride: a clip is
    #: cut into windows at this stride and overlapping outputs are averaged (50 / 25 in the original).
    window: int = 50
    stride: int = 25
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    cognitive: CognitiveConfig = field(default_factory=CognitiveConfig)
    motor: MotorConfig = field(default_factory=MotorConfig)
    #: Appropriate reactions drawn per speaker window and step (at random when there are more).
    max_neighbours: int = 10
    #: The min-over-neighbours MSE ignores speaker windows already matched below a threshold theta,
    #: set after every "epoch" of this many training steps to (mean loss of the epoch) / divisor
    #: (the original: epochs of 101 iterations, divisor 3; no threshold during the first epoch).
    threshold_epoch_steps: int = 101
    threshold_divisor: float = 3.0
    #: Weight of MidLoss (each neighbour latent against its group's mean).
    mid_weight: float = 1.0
    #: Per-frame emotion -> 3DMM regressor, Linear(25, hidden), Tanh, Linear(hidden, 58), fitted on
    #: the ground-truth frames of each training item's true listener (not in the original, which
    #: outputs emotion only; its own parameters, so it does not change what the rest learns).
    regressor_hidden: int = 128
    regressor_weight: float = 1.0
    #: Sampling: noise n ~ N(0, I) added to the speaker latent, scaled down so max |n| over the clip
    #: is at most sqrt(noise_threshold) (the original's test-time 0.06).
    noise_threshold: float = 0.06


@dataclass
class RegnnTrainConfig(TrainConfig):
    """The original's recipe where the shared loop allows: lr 1e-4 for 9% of the budget then 1e-5
    (x0.1 at epoch 9 of 100), no warm-up, weight decay 5e-4, no gradient clipping, no EMA (it
    generates with the raw weights of epoch 95), batches of 128 50-frame windows, 100 epochs of 101
    steps, seed 1. The shared loop's optimiser is AdamW (decoupled decay); the original's is Adam
    with L2 decay."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(lr=1e-4, weight_decay=5e-4, warmup_steps=0, milestones=(0.09,), gamma=0.1, grad_clip=0.0)
    )
    batch_size: int = 128
    crop_frames: int = 50
    ema_decay: float = 0.0
    steps: int = 10100
    seed: int = 1
