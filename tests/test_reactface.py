"""ReactFace: online by construction (training and generation never see later speaker frames),
streaming with carried state equals whole-clip generation and the original's prefix re-encoding,
the neighbour loss takes the best appropriate reaction, and training refuses a dataset without the
train split's appropriateness matrix."""

from __future__ import annotations

import pytest
import torch
from test_train import random_corpus

from reactdiff.errors import ConfigError, DataError
from reactdiff.methods.registry import METHODS

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}
METHOD = METHODS["reactface"]


def _model(dropout: float = 0.0, context: int = 24):
    config = METHOD.preset("tiny")
    config.dropout, config.context_frames = dropout, context
    torch.manual_seed(0)
    return METHOD.build(config, DIMS, KINDS)


def _speaker(frames: int, batch: int = 2, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(batch, frames, dim, generator=generator) for name, dim in DIMS.items()}


def _changed_after(speaker: dict, cut: int) -> dict:
    changed = {name: value.clone() for name, value in speaker.items()}
    for value in changed.values():
        value[:, cut:] += 3.0
    return changed


def test_streaming_generation_equals_whole_clip_and_prefix_reencoding():
    from reactdiff.methods.reactface.model import ReactFaceStream
    from reactdiff.methods.reactface.reference import react_reencoding

    model = _model().eval()
    speaker, window = _speaker(80), model.window  # 10 windows, past the 24-frame attention context
    with torch.no_grad():
        whole = model.react(speaker, torch.Generator().manual_seed(3), num_samples=3)
        stream = ReactFaceStream(model, 3, torch.Generator().manual_seed(3))
        steps = [stream.step({name: value[:, start : start + window] for name, value in speaker.items()})
                 for start in range(0, 80, window)]
        reencoded = react_reencoding(model, speaker, torch.Generator().manual_seed(3), num_samples=3)
    streamed = {"coeffs_3dmm": torch.cat([s[0] for s in steps], 1), "emotion": torch.cat([s[1] for s in steps], 1)}
    for key in ("coeffs_3dmm", "emotion"):
        assert whole[key].shape == streamed[key].shape == reencoded[key].shape
        torch.testing.assert_close(streamed[key], whole[key], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(reencoded[key], whole[key], atol=1e-5, rtol=1e-5)
    again = model.react(speaker, torch.Generator().manual_seed(4), num_samples=3)
    assert not torch.allclose(again["coeffs_3dmm"], whole["coeffs_3dmm"])


@pytest.mark.parametrize("cut", [13, 40])
def test_training_forward_never_sees_later_speaker_frames(cut):
    """In training mode (dropout on, the same dropout masks), output frames before ``cut`` do not
    change when the speaker's frames from ``cut`` on do, also inside a window (13)."""
    model = _model(dropout=0.1).train()
    speaker = _speaker(64)
    outputs = []
    for streams in (speaker, _changed_after(speaker, cut)):
        torch.manual_seed(7)
        outputs.append(model.react(streams, torch.Generator().manual_seed(1), speaker_head=False))
    for key in ("coeffs_3dmm", "emotion"):
        assert torch.equal(outputs[0][key][:, :cut], outputs[1][key][:, :cut]), key
        assert not torch.allclose(outputs[0][key][:, cut:], outputs[1][key][:, cut:]), key


def test_generation_output_before_t_ignores_speaker_after_t():
    model = _model().eval()
    speaker, cut = _speaker(48), 21
    with torch.no_grad():
        before, after = (METHOD.generate(model, s, 2, torch.Generator().manual_seed(0)) for s in (speaker, _changed_after(speaker, cut)))
    for key in ("emotion", "coeffs_3dmm"):
        assert before[key].shape[:3] == (2, 2, 48)
        assert torch.equal(before[key][:, :, :cut], after[key][:, :, :cut]), key
    assert not torch.equal(before["coeffs_3dmm"][:, :, cut:], after["coeffs_3dmm"][:, :, cut:])


def test_momentum_is_a_sampling_option_that_changes_the_reactions():
    model = _model().eval()
    config = model.config
    assert METHOD.check_sampling(config, {}) == {"momentum": 0.9}
    assert METHOD.check_sampling(config, {"momentum": 0.5}) == {"momentum": 0.5}
    with pytest.raises(ConfigError, match="--momentum"):
        METHOD.check_sampling(config, {"momentum": 1.0})
    speaker = _speaker(32)
    with torch.no_grad():
        smooth, free = (model.react(speaker, torch.Generator().manual_seed(0), momentum=m)["coeffs_3dmm"] for m in (0.9, 0.0))
    assert torch.equal(smooth[:, :8], free[:, :8])  # the first window has no previous latent
    assert not torch.allclose(smooth[:, 8:], free[:, 8:])


def test_neighbour_loss_takes_the_best_appropriate_reaction_and_ignores_empty_slots():
    from reactdiff.methods.reactface.stage import neighbour_loss

    config = METHOD.preset("tiny")
    coeffs, emotion = torch.randn(2, 16, 58), torch.randn(2, 16, 25)
    far = torch.full((2, 16, 58), 5.0), torch.full((2, 16, 25), 5.0)
    listener = {
        # slot 0: far away; slot 1: the prediction itself; slot 2: also the prediction but empty
        "neighbour_3dmm": torch.stack([far[0], coeffs, coeffs], 1),
        "neighbour_emotion": torch.stack([far[1], emotion, emotion], 1),
        "neighbour_mask": torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    }
    loss = neighbour_loss(config, coeffs, emotion, listener)
    # Row 0 matches its slot 1 exactly; row 1's exact matches are in empty slots, so slot 0 counts.
    far_row = neighbour_loss(config, coeffs[1:], emotion[1:], {k: v[1:, :1] for k, v in listener.items()})
    assert torch.isclose(loss, far_row / 2) and far_row > 0


def test_training_refuses_a_dataset_without_the_train_appropriateness_matrix(tmp_path):
    from reactdiff.train.run import train_stage

    data = random_corpus(tmp_path / "data", pairs={"train": 2, "val": 1})
    (data / "neighbour_emotion_train.npy").unlink()
    with pytest.raises(DataError, match="appropriateness matrix") as error:
        train_stage("reactface", None, data, tmp_path / "run", settings={"preset": "tiny", "steps": 1, "batch_size": 1, "crop_frames": 16, "device": "cpu"})
    assert "neighbour_emotion_train.npy" in str(error.value)


def test_appropriate_reactions_hold_every_neighbour_of_the_row(tmp_path):
    import numpy as np

    from reactdiff.methods.reactface.neighbours import AppropriateReactions

    data = random_corpus(tmp_path / "data", pairs={"train": 3})
    matrix = np.load(data / "neighbour_emotion_train.npy")
    dataset = AppropriateReactions(data, "train", ("emotion", "3dmm", "mfcc"), 16, False, max_neighbours=8)
    item = dataset[1]
    count = int(matrix[1].sum())
    assert item["listener"]["neighbour_mask"].sum() == count
    store, pairs = dataset.pairs.store, dataset.pairs.pairs
    for slot, column in enumerate(np.flatnonzero(matrix[1])):
        expected = np.asarray(store.read("3dmm", f"train/{pairs[column].listener}")[:16])
        assert np.allclose(item["listener"]["neighbour_3dmm"][slot].numpy(), expected)


def test_validation_loss_is_the_training_loss_without_the_diversity_reward():
    from reactdiff.methods.reactface.stage import ReactFaceStage

    model, stage = _model().eval(), ReactFaceStage()
    speaker = _speaker(16)
    generator = torch.Generator().manual_seed(1)
    listener = {
        "neighbour_3dmm": torch.randn(2, 2, 16, 58, generator=generator),
        "neighbour_emotion": torch.randn(2, 2, 16, 25, generator=generator),
        "neighbour_mask": torch.tensor([[1.0, 1.0], [1.0, 0.0]]),
    }
    batch = {"speaker": speaker, "listener": listener}
    with torch.no_grad():
        loss, logs = stage.loss(model, batch, torch.Generator().manual_seed(5))
        fit = stage.validation_loss(model, batch, torch.Generator().manual_seed(5))
    assert logs["div"] > 0
    torch.testing.assert_close(fit, loss - model.config.div_weight * logs["div"])

