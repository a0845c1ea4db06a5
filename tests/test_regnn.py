"""REGNN: the motor flow inverts, the edge mask keeps what it should, windows are averaged as the
original does, the loss reads appropriate reactions, and training refuses data without them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reactdiff.errors import DataError
from reactdiff.methods.regnn.cognitive import EdgeLayer
from reactdiff.methods.regnn.config import CognitiveConfig, ModelConfig, MotorConfig
from reactdiff.methods.regnn.method import METHOD
from reactdiff.methods.regnn.model import NODES, overlap_average, window_starts
from reactdiff.methods.regnn.motor import ActNorm, LipschitzGraph

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}


def _edges(batch: int, channels: int, generator: torch.Generator) -> torch.Tensor:
    layer = EdgeLayer(50, CognitiveConfig(edge_channels=channels))
    with torch.no_grad():
        return layer(torch.randn(batch, NODES, 50, generator=generator))


@pytest.mark.parametrize("layers", [2, 4])
def test_motor_flow_forward_then_inverse_returns_the_input(layers):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    flow = LipschitzGraph(NODES, 50, 8, MotorConfig(layers=layers))
    edges = _edges(16, 8, generator)
    # Initialise ActNorm on data of another scale (as training does), and give the residual
    # branches non-trivial weights, so the test exercises the whole layer.
    flow.train()
    flow(3.0 * torch.randn(16, NODES, 50, generator=generator) + 1.0, edges)
    with torch.no_grad():
        for layer in flow.layers:
            layer.attention.qk.weight.mul_(4.0)
            layer.attention.channel_weights.uniform_(0.5, 2.0, generator=generator)
    flow.eval()
    windows = torch.randn(16, NODES, 50, generator=generator) * 2.0
    with torch.no_grad():
        latent = flow(windows, edges)
    assert (latent - windows).abs().max() > 0.1  # the flow does something
    restored = flow.inverse(latent, edges)
    assert (restored - windows).abs().max() < 1e-4


def test_actnorm_initialisation_floors_the_std_of_a_node_nearly_constant_in_the_first_batch():
    """A rare AU (one frame in 1,600 active) would get a scale of ~40 from its batch std, and
    ~300 from sqrt(eps) alone when it does not fire: the floor caps it at 1 / min_std."""
    batch = torch.randn(32, NODES, 50, generator=torch.Generator().manual_seed(2))
    batch[:, 5] = 0.0
    batch[0, 5, 7] = 1.0  # fires once
    batch[:, 6] = 0.0  # never fires
    fixed, original = ActNorm(NODES, 1e-5, 0.1).train(), ActNorm(NODES, 1e-5, 0.0).train()
    fixed(batch), original(batch)
    scale_fixed, scale_original = fixed.log_scale.detach().exp(), original.log_scale.detach().exp()
    assert scale_fixed[5] == pytest.approx(10.0) and scale_fixed[6] == pytest.approx(10.0)
    assert scale_original[5] > 30 and scale_original[6] > 300  # the original's blow-up
    # Nodes with a healthy spread are initialised exactly as the original does.
    torch.testing.assert_close(scale_fixed[:5], scale_original[:5])
    torch.testing.assert_close(fixed.shift.detach()[:5], original.shift.detach()[:5])
    # The paper preset keeps the original.
    from reactdiff.methods.regnn.method import paper_config

    assert paper_config().motor.actnorm_min_std == 0.0 and MotorConfig().actnorm_min_std == 0.1


def test_residual_branch_is_a_contraction():
    """|f(a) - f(b)| < |a - b|: what makes the fixed-point inverse converge."""
    generator = torch.Generator().manual_seed(1)
    flow = LipschitzGraph(NODES, 50, 8, MotorConfig()).eval()
    edges = _edges(8, 8, generator)
    attention = flow.layers[0].attention
    a, b = torch.randn(2, 8, NODES, 50, generator=generator)
    with torch.no_grad():
        ratio = (attention(a, edges) - attention(b, edges)).flatten(1).norm(dim=1) / (a - b).flatten(1).norm(dim=1)
    assert ratio.max() < 0.5


def test_edge_mask_per_row_keeps_each_rows_top_k_and_union_reproduces_the_original():
    attention = torch.rand(2, 3, NODES, NODES, generator=torch.Generator().manual_seed(2))
    strength = attention.sum(1)
    top = strength.topk(5, dim=-1).indices
    per_row = EdgeLayer(50, CognitiveConfig(edge_mask="per_row")).mask(attention)
    union = EdgeLayer(50, CognitiveConfig(edge_mask="union")).mask(attention)
    for b in range(2):
        for row in range(NODES):
            kept = set(torch.nonzero(per_row[b, row]).flatten().tolist())
            assert kept == set(top[b, row].tolist()) | {row}
            # The original: every row keeps every row's top-5 columns (plus itself).
            assert set(torch.nonzero(union[b, row]).flatten().tolist()) == set(top[b].flatten().tolist()) | {row}
    assert per_row.sum() < union.sum()


def test_windows_at_stride_25_are_averaged_like_the_original():
    frames = 150
    starts = window_starts(frames, 50, 25)
    assert starts == [0, 25, 50, 75, 100]
    windows = torch.randn(len(starts), 50, 3)
    # The original's combine_preds: first half of window 0, then each overlap averaged, then the tail.
    expected = [windows[0, :25]]
    for index in range(1, len(starts)):
        expected.append((windows[index - 1, 25:] + windows[index, :25]) / 2)
    expected.append(windows[-1, 25:])
    assert torch.allclose(overlap_average(windows, starts, frames), torch.cat(expected))


def _model(**changes):
    from reactdiff.methods.regnn.method import tiny_config

    config = tiny_config()
    for key, value in changes.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    return METHOD.build(config, DIMS, KINDS)


def _batch(batch: int = 3, slots: int = 4, frames: int = 100, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    speaker = {name: torch.randn(batch, frames, dim, generator=generator) for name, dim in DIMS.items()}
    neighbours = torch.randn(batch, slots, frames, 25, generator=generator)
    mask = torch.zeros(batch, slots, dtype=torch.bool)
    mask[:, 0] = True
    mask[0, 1:] = True
    return {"speaker": speaker, "neighbours": neighbours, "mask": mask,
            "emotion": torch.randn(batch, frames, 25, generator=generator), "3dmm": torch.randn(batch, frames, 58, generator=generator)}


def test_loss_ignores_padded_neighbour_slots():
    model = _model().eval()
    batch = _batch()
    loss, _ = model.loss(batch["speaker"], batch["neighbours"], batch["mask"], batch["emotion"], batch["3dmm"])
    garbage = batch["neighbours"].clone()
    garbage[~batch["mask"]] = 1e3
    again, _ = model.loss(batch["speaker"], garbage, batch["mask"], batch["emotion"], batch["3dmm"])
    assert torch.isfinite(loss) and torch.allclose(loss, again)


def test_loss_threshold_is_set_from_the_previous_epoch_and_zeroes_matched_speakers():
    model = _model(threshold_epoch_steps=2).train()
    batch = _batch()
    args = (batch["speaker"], batch["neighbours"], batch["mask"], batch["emotion"], batch["3dmm"])
    first = [float(model.loss(*args)[1]["min_mse"]) for _ in range(2)]
    assert float(model.threshold) == 0.0  # no threshold during the first epoch
    _, logs = model.loss(*args)
    assert float(model.threshold) == pytest.approx(sum(first) / 2 / 3, rel=1e-5)
    assert float(logs["threshold"]) == pytest.approx(float(model.threshold))
    # With a threshold above every speaker window's nearest MSE, the term vanishes.
    model.threshold.fill_(1e6)
    model.epoch_steps.zero_()
    _, logs = model.loss(*args)
    assert float(logs["min_mse"]) == 0.0


def test_sampling_noise_is_bounded_and_zero_noise_inverts_to_the_mean_reaction():
    model = _model().eval()
    speaker = _batch(batch=2, frames=150)["speaker"]
    same = model.sample(speaker, 2, torch.Generator().manual_seed(0), noise_threshold=0.0)
    assert torch.equal(same["emotion"][:, 0], same["emotion"][:, 1])
    varied = model.sample(speaker, 2, torch.Generator().manual_seed(0), noise_threshold=1.0)
    assert varied["emotion"].shape == (2, 2, 150, 25) and varied["coeffs_3dmm"].shape == (2, 2, 150, 58)
    assert not torch.equal(varied["emotion"][:, 0], varied["emotion"][:, 1])


def test_training_refuses_a_dataset_without_a_train_appropriateness_matrix(tmp_path):
    from test_train import random_corpus

    from reactdiff.methods.regnn.stage import RegnnStage

    corpus = random_corpus(tmp_path / "data", pairs={"train": 2, "val": 1, "test": 1})
    (corpus / "neighbour_emotion_train.npy").unlink()
    with pytest.raises(DataError, match="no appropriateness matrix for train") as error:
        RegnnStage().datasets(_model(), corpus, ("emotion", "3dmm", "mfcc"), 50, torch.device("cpu"))
    assert "neighbour_emotion_train.npy" in str(error.value)


def test_items_hold_every_appropriate_reaction_at_the_speaker_frames(tmp_path):
    from test_train import random_corpus

    from reactdiff.data.layout import ReactLayout
    from reactdiff.methods.regnn.neighbours import AppropriateReactions

    corpus = random_corpus(tmp_path / "data", pairs={"train": 3, "val": 1, "test": 1})
    matrix = np.eye(6, dtype=np.int8)
    matrix[0, [2, 4]] = 1
    np.save(corpus / "neighbour_emotion_train.npy", matrix)
    torch.manual_seed(0)
    dataset = AppropriateReactions(corpus, "train", ("emotion", "3dmm", "mfcc"), 100, True, max_neighbours=10, stride=25)
    item = dataset[0]
    assert dataset.width == 3 and item["listener"]["neighbour_mask"].tolist() == [True, True, True]
    order = ReactLayout(corpus).eval_order("train")
    store = dataset.pairs.store
    speaker = store.read("emotion", f"train/{order[0].speaker}")
    start = int(np.flatnonzero((speaker[:, 0] == item["speaker"]["emotion"][0, 0].item()))[0])
    assert start % 25 == 0
    for slot, column in enumerate([0, 2, 4]):
        expected = store.read("emotion", f"train/{order[column].listener}")[start : start + 100]
        assert np.array_equal(item["listener"]["neighbours"][slot].numpy(), expected)
    # A speaker with only its own listener: one real slot, the rest padding.
    assert dataset[1]["listener"]["neighbour_mask"].tolist() == [True, False, False]


def test_bad_settings_are_one_line_errors_naming_the_setting():
    from reactdiff.errors import ConfigError
    from reactdiff.methods.regnn.method import tiny_config

    config = tiny_config()
    config.stride = 30
    with pytest.raises(ConfigError, match="model.stride"):
        METHOD.validate_config(config)
    config = tiny_config()
    config.motor.actnorm_min_std = -0.1
    with pytest.raises(ConfigError, match="model.motor.actnorm_min_std"):
        METHOD.validate_config(config)
    with pytest.raises(ConfigError, match="noise_threshold"):
        METHOD.check_sampling(tiny_config(), {"noise_threshold": -1.0})
    assert METHOD.check_sampling(tiny_config(), {"iterations": 3}) == {"noise_threshold": 0.06, "iterations": 3}
    with pytest.raises(ConfigError, match="model.streams"):
        METHOD.build(tiny_config(), DIMS, {"emotion": "visual", "3dmm": "visual", "mfcc": "visual"})
