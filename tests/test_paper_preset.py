"""The paper preset against the authors' code: sizes, decoder, dropout, statistics, training settings."""

import dataclasses

import pytest
import torch
from torch import nn

from reactdiff.config import from_dict
from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff import MODEL_PRESETS, ModelConfig, build_model
from reactdiff.methods.reactdiff.latent_stats import LatentStatistics
from reactdiff.methods.reactdiff.presets import paper_train_settings
from reactdiff.methods.reactdiff.unet1d import AttentionBlock1d, ResBlock

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "dims",
    [DIMS, {**DIMS, "wav2vec2": 1536, "au": 25088}],
    ids=["ours", "with-reference-widths"],
)
def test_paper_preset_has_the_authors_parameter_counts(dims):
    """Counted from the authors' modules: U-Net 404,312,626, condition layer 13,110,272.

    Assumptions: 50-frame windows of 256-d latents conditioned on one speaker window (the preset's
    context_windows 1, lookahead 0), cond_dim 1024. Neither count depends on the input streams (the
    condition layer reads latents, not features): the same with the reference's stream widths.
    """
    config = MODEL_PRESETS["paper"]()
    kinds = {name: KINDS.get(name, "audio" if name == "wav2vec2" else "visual") for name in dims}
    config = dataclasses.replace(config, streams=tuple(dims))
    with torch.device("meta"):  # shapes only: ~1.8 GB of weights otherwise
        model = build_model(config, dims, kinds)
    assert count(model.denoiser) == 404_312_626
    assert count(model.condition_encoder) == 13_110_272  # Linear(12800 -> 1024) + GroupNorm(32, 1024)
    blocks = list(model.denoiser.modules())
    # The condition is concatenated to the 1024-d timestep embedding: every ResBlock reads 2048.
    assert {block.embed[1].in_features for block in blocks if isinstance(block, ResBlock)} == {2048}
    assert model.denoiser.cond_embed is None
    # Attention at downsampling 1, 2, 4 (2 encoder + 3 decoder blocks per level) and the middle, 1 head.
    attention = [block for block in blocks if isinstance(block, AttentionBlock1d)]
    assert len(attention) == 3 * (2 + 3) + 1 and {block.num_heads for block in attention} == {1}


def tiny_paper(**diffusion) -> ModelConfig:
    """The paper preset's structure at test size (window 50, whole-sequence attention kept)."""
    paper = MODEL_PRESETS["paper"]()
    return dataclasses.replace(
        paper,
        autoencoder=dataclasses.replace(paper.autoencoder, hidden_dim=16, num_heads=2, latent_dim=8, decoder_heads=2, decoder_ff_dim=16),
        denoiser=dataclasses.replace(paper.denoiser, cond_dim=32, model_channels=32, channel_mult=(1, 2), attention_levels=(1,)),
        diffusion=dataclasses.replace(paper.diffusion, **diffusion),
    )


def streams(batch=2, frames=100, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(batch, frames, dim, generator=generator) for name, dim in DIMS.items()}


def test_two_stack_decoder_is_the_reference_computation():
    torch.manual_seed(0)
    model = build_model(tiny_paper(), DIMS, KINDS).eval()
    autoencoder = model.autoencoder
    assert autoencoder.decoder_input is None  # the reference builds it but never calls it
    assert [len(stack.layers) for stack in autoencoder.decoder] == [2, 2]
    assert all(isinstance(layer, nn.TransformerDecoderLayer) for stack in autoencoder.decoder for layer in stack.layers)
    latent = torch.randn(2, 100, 8)
    # By hand: each layer of a stack self-attends and cross-attends to that stack's input; the
    # second stack reads the first; both heads read the second (no positions: positional false).
    x = latent
    for stack in autoencoder.decoder:
        memory = x
        for layer in stack.layers:
            x = layer(x, memory)
    decoded = model.decode(latent)
    torch.testing.assert_close(decoded["coeffs_3dmm"], autoencoder.head_3dmm(x))
    torch.testing.assert_close(decoded["emotion"], autoencoder.head_emotion(x))


@pytest.mark.parametrize("decoder", ["two_stacks", "self_attention"])
@pytest.mark.parametrize("positional", [False, True])
def test_decoder_positions_follow_the_positional_setting(decoder, positional):
    config = tiny_paper()
    config = dataclasses.replace(config, autoencoder=dataclasses.replace(config.autoencoder, decoder=decoder, positional=positional))
    torch.manual_seed(0)
    model = build_model(config, DIMS, KINDS).eval()
    latent = torch.randn(1, 100, 8)
    order = torch.randperm(100, generator=torch.Generator().manual_seed(1))
    # Without positions, whole-sequence attention is permutation-equivariant over frames.
    permuted_first = model.decode(latent[:, order])["coeffs_3dmm"]
    permuted_after = model.decode(latent)["coeffs_3dmm"][:, order]
    assert torch.allclose(permuted_first, permuted_after, atol=1e-5) == (not positional)


def test_paper_mmt_has_no_attention_dropout_but_its_decoder_has():
    torch.manual_seed(0)
    model = build_model(tiny_paper(), DIMS, KINDS).train()
    mmt_attention = [m for m in model.autoencoder.mmt.modules() if isinstance(m, nn.MultiheadAttention)]
    assert mmt_attention and {m.dropout for m in mmt_attention} == {0.0}
    inputs = streams()
    torch.testing.assert_close(model.encode(inputs), model.encode(inputs))  # deterministic in training mode
    latent = model.encode(inputs)
    assert not torch.equal(model.decode(latent)["emotion"], model.decode(latent)["emotion"])  # decoder dropout 0.1
    # Our default keeps one dropout for both (mmt_dropout None).
    default = build_model(from_dict(ModelConfig, {}), DIMS, KINDS)
    assert {m.dropout for m in default.autoencoder.mmt.modules() if isinstance(m, nn.MultiheadAttention)} == {0.1}


def test_paper_settings_are_valid_train_configs_and_train_on_whole_clips():
    from reactdiff.config import replace
    from reactdiff.methods.registry import get_method

    method = get_method("reactdiff")
    settings = paper_train_settings()
    assert set(settings) == {stage.name for stage in method.stages}
    assert method.budget("paper")["autoencoder"]["preset"] == "paper"  # what `--recipe paper` trains
    for stage in method.stages:
        config = replace(stage.config_class(), **settings[stage.name]).validate(frame_multiple=50)
        assert config.crop_frames == 750 and config.optim.warmup_steps == 0 and config.optim.milestones == ()
        assert config.batch_size == 16 and config.steps == 200 * 200  # 200 epochs of ceil(3186 / 16) batches
    assert settings["autoencoder"]["optim.lr"] == 1e-4 and settings["diffusion"]["optim.lr"] == 5e-5
    assert MODEL_PRESETS["paper"]().diffusion.train_steps == 20


def attention_lengths(model: nn.Module, run) -> set[tuple[int, int]]:
    """(query frames, key frames) of every attention call while ``run()`` runs."""
    seen = set()

    def record(module, args, kwargs):
        query, key = (args + (kwargs.get("query"), kwargs.get("key")))[:2]
        seen.add((query.shape[-2], key.shape[-2]))

    hooks = [m.register_forward_pre_hook(record, with_kwargs=True) for m in model.modules() if isinstance(m, nn.MultiheadAttention)]
    try:
        run()
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_paper_stage_one_sees_the_clip_length_and_attention_span_generation_uses():
    # Stage 1 trains on crops of the recipe's crop_frames; generation encodes the speaker's whole
    # 750-frame clip and decodes 750 generated frames. Every attention call must span the same frames.
    crop = paper_train_settings()["autoencoder"]["crop_frames"]
    torch.manual_seed(0)
    model = build_model(tiny_paper(), DIMS, KINDS)
    model.set_latent_stats(torch.randn(4, 750, 8))
    person = streams(batch=1, frames=crop)
    targets = {"emotion": person["emotion"], "coeffs_3dmm": person["3dmm"]}
    training = attention_lengths(model, lambda: model.train().autoencoder_loss(person, targets))
    generation = attention_lengths(model, lambda: model.eval().sample(streams(batch=1, frames=750), num_samples=1, steps=2))
    assert training == generation == {(750, 750)}


def test_per_position_statistics_follow_the_windows_clip_position():
    torch.manual_seed(0)
    model = build_model(tiny_paper(normalization="standard"), DIMS, KINDS)
    clips = torch.randn(6, 750, 8) * torch.linspace(0.5, 2, 750)[:, None] + torch.linspace(-1, 1, 750)[:, None]
    model.set_latent_stats(clips)
    assert model.latent_mean.shape == (750, 8)
    torch.testing.assert_close(model.latent_mean, clips.mean(0))
    torch.testing.assert_close(model.latent_std, clips.std(0))
    windows = clips.reshape(6, 15, 50, 8)
    whole = model.normalize_latent(windows)
    # A crop starting at window 4 is normalised with the statistics of windows 4.. of the clip.
    torch.testing.assert_close(model.normalize_latent(windows[:, 4:7], first_window=4), whole[:, 4:7])
    starts = torch.tensor([0, 3, 12, 5, 1, 9])
    crops = torch.stack([windows[row, start : start + 3] for row, start in enumerate(starts.tolist())])
    expected = torch.stack([whole[row, start : start + 3] for row, start in enumerate(starts.tolist())])
    torch.testing.assert_close(model.normalize_latent(crops, first_window=starts), expected)
    torch.testing.assert_close(model.denormalize_latent(whole), windows, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="cover 15 windows"):
        model.normalize_latent(windows[:, :3], first_window=13)


def test_statistics_accumulate_batch_by_batch_to_the_whole_set_values():
    latents = torch.randn(7, 30, 4, dtype=torch.float64) * 3 + 5
    for per_position, reduce in ((False, latents.reshape(-1, 4)), (True, latents)):
        statistics = LatentStatistics(per_position)
        for start in range(0, 7, 3):  # uneven batches: 3, 3, 1
            statistics.update(latents[start : start + 3])
        result = statistics.result()
        torch.testing.assert_close(result["mean"], reduce.mean(0))
        torch.testing.assert_close(result["std"], reduce.std(0))
        torch.testing.assert_close(result["min"], reduce.min(0).values)
        torch.testing.assert_close(result["max"], reduce.max(0).values)


def test_paper_only_options_refuse_what_they_cannot_do():
    with pytest.raises(ConfigError, match="per_position needs a condition of one window"):
        build_model(tiny_paper(context_windows=2), DIMS, KINDS)
    config = from_dict(ModelConfig, {"denoiser": {"condition_join": "concat"}})
    with pytest.raises(ConfigError, match="condition_join"):
        build_model(config, DIMS, KINDS)


def test_paper_structure_trains_both_stages_and_generates_on_whole_clips():
    torch.manual_seed(0)
    model = build_model(tiny_paper(), DIMS, KINDS)
    speaker, listener = streams(batch=1, frames=750, seed=1), streams(batch=1, frames=750, seed=2)
    targets = {"emotion": listener["emotion"], "coeffs_3dmm": listener["3dmm"]}

    def fit(loss_fn, parameters, steps=4):
        optimizer = torch.optim.Adam(parameters, lr=1e-3)
        losses = []
        for _ in range(steps):
            loss, _ = loss_fn()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    model.train()
    stage1 = fit(lambda: model.autoencoder_loss(listener, targets), model.autoencoder.parameters())
    statistics = model.latent_statistics()
    with torch.no_grad():
        statistics.update(model.eval().encode(listener))
        statistics.update(model.encode(speaker))
    model.set_latent_stats(statistics)
    stage2 = fit(lambda: model.diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0)), model.diffusion_parameters())
    assert stage1[-1] < stage1[0] and stage2[-1] < stage2[0]
    reactions = model.eval().sample(speaker, num_samples=2, generator=torch.Generator().manual_seed(0))
    assert reactions["coeffs_3dmm"].shape == (1, 2, 750, 58) and torch.isfinite(reactions["coeffs_3dmm"]).all()
