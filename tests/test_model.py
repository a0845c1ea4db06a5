"""The composed ReactDiff model on a tiny configuration: losses, sampling, online causality."""

import dataclasses

import pytest
import torch

from reactdiff.config import from_dict
from reactdiff.methods.reactdiff import DENOISERS, MODEL_PRESETS, ModelConfig, build_model, postprocess_emotion

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}
WINDOW, FRAMES = 10, 30  # three windows per sequence keeps every test fast


def tiny_config(denoiser="transformer", **diffusion):
    return from_dict(
        ModelConfig,
        {
            "autoencoder": {"hidden_dim": 16, "num_heads": 2, "intra_depth": 1, "inter_depth": 1, "latent_dim": 8,
                            "decoder_layers": 1, "decoder_heads": 2, "decoder_ff_dim": 16, "dropout": 0.0,
                            "context_frames": WINDOW},
            "denoiser": {"name": denoiser, "cond_dim": 16, "width": 16, "depth": 1, "num_heads": 2, "patch_frames": 5,
                         "model_channels": 8, "channel_mult": [1, 2], "attention_levels": [2],
                         "cross_attention": denoiser == "transformer"},
            "diffusion": {"train_steps": 100, "sample_steps": 4, "window": WINDOW, **diffusion},
        },
    )


def tiny_model(denoiser="transformer", seed=0, **diffusion):
    torch.manual_seed(seed)
    model = build_model(tiny_config(denoiser, **diffusion), DIMS, KINDS)
    model.set_latent_stats(torch.randn(64, 8))
    return model.eval()


def person(batch=2, frames=FRAMES, seed=0):
    """Streams driven by 4 smooth hidden factors, so an 8-d latent can explain them."""
    generator = torch.Generator().manual_seed(seed)
    factors = torch.randn(batch, frames // 5 + 1, 4, generator=generator).repeat_interleave(5, dim=1)[:, :frames]
    mixing = torch.Generator().manual_seed(99)  # the same factor-to-stream maps for every person
    return {name: factors @ torch.randn(4, dim, generator=mixing) for name, dim in DIMS.items()}


def train_steps(loss_fn, parameters, steps=8):
    optimizer = torch.optim.Adam(parameters, lr=1e-2)
    losses = []
    for _ in range(steps):
        loss, logs = loss_fn()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(logs["loss"])
    return losses


def test_autoencoder_step_lowers_the_loss():
    model = tiny_model().train()
    streams = person()
    targets = {"emotion": streams["emotion"], "coeffs_3dmm": streams["3dmm"]}
    losses = train_steps(lambda: model.autoencoder_loss(streams, targets), model.autoencoder.parameters())
    assert losses[-1] < 0.9 * losses[0]


@pytest.mark.parametrize("denoiser", sorted(DENOISERS))
def test_diffusion_step_lowers_the_loss_and_leaves_the_autoencoder_alone(denoiser):
    model = tiny_model(denoiser).train()
    before = {k: v.clone() for k, v in model.autoencoder.state_dict().items()}
    speaker, listener = person(seed=1), person(seed=2)

    def loss_fn():
        # A fixed generator: the same t and noise each step, so the loss curve is comparable.
        return model.diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0))

    losses = train_steps(loss_fn, model.diffusion_parameters())
    assert losses[-1] < 0.9 * losses[0]
    assert all(torch.equal(before[k], v) for k, v in model.autoencoder.state_dict().items())
    assert model.autoencoder.training  # the frozen encoder ran in eval mode and was restored


@pytest.mark.parametrize("kind", ["l1", "mse"])
def test_diffusion_loss_is_the_configured_error_of_the_x0_prediction(kind):
    model = tiny_model(prediction="x0", loss=kind)
    speaker, listener = person(seed=1), person(seed=2)
    seen = []
    model.denoiser.register_forward_hook(lambda module, inputs, output: seen.append(output))
    with torch.no_grad():
        loss, logs = model.diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0))
        target = model.normalize_latent(model.encode_windows(listener)).flatten(0, 1)
    error = seen[0] - target
    expected = error.abs().mean() if kind == "l1" else error.square().mean()
    torch.testing.assert_close(loss, model.config.diffusion.loss_weight * expected)
    assert logs[f"{kind}_x0"] == pytest.approx(expected.item(), rel=1e-5)


def test_parameter_groups_are_disjoint():
    model = tiny_model()
    autoencoder = {id(p) for p in model.autoencoder.parameters()}
    diffusion = {id(p) for p in model.diffusion_parameters()}
    assert autoencoder.isdisjoint(diffusion)
    assert autoencoder | diffusion == {id(p) for p in model.parameters()}


@pytest.mark.parametrize("denoiser", sorted(DENOISERS))
def test_sample_shapes_determinism_and_diversity(denoiser):
    model = tiny_model(denoiser)
    # Untrained denoisers predict eps = 0 (zero-initialised outputs): give them weights.
    for parameter in model.denoiser.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    speaker = person(batch=2)
    first = model.sample(speaker, num_samples=3, generator=torch.Generator().manual_seed(5))
    again = model.sample(speaker, num_samples=3, generator=torch.Generator().manual_seed(5))
    assert first["emotion"].shape == (2, 3, FRAMES, 25)
    assert first["coeffs_3dmm"].shape == (2, 3, FRAMES, 58)
    for name in first:
        assert torch.equal(first[name], again[name])
    coeffs = first["coeffs_3dmm"]
    assert not torch.allclose(coeffs[:, 0], coeffs[:, 1]) and not torch.allclose(coeffs[:, 1], coeffs[:, 2])
    other = model.sample(speaker, num_samples=3, generator=torch.Generator().manual_seed(6))
    assert not torch.allclose(other["coeffs_3dmm"], coeffs)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_x0_prediction_lands_on_the_predicted_window(sampler):
    # A denoiser that always predicts the same clean window: every sampler must end exactly there,
    # which pins down the x0 -> eps conversion the samplers rely on (a sign or scale error would not).
    model = tiny_model(prediction="x0")
    target = torch.randn(WINDOW, 8, generator=torch.Generator().manual_seed(3))

    class Constant(torch.nn.Module):
        def forward(self, x_t, t, cond):
            return target.expand_as(x_t)

    model.denoiser = Constant()
    speaker = model.condition_windows(model.to_windows(model.encode(person(batch=1))))
    windows = model.sample_windows(speaker, num_samples=2, sampler=sampler, generator=torch.Generator().manual_seed(0))
    expected = model.denormalize_latent(target).expand_as(windows)
    torch.testing.assert_close(windows, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("clip_noise", [True, False])
def test_clip_noise_shares_the_initial_noise_across_a_samples_windows(clip_noise):
    model = tiny_model(clip_noise=clip_noise)

    class IgnoresCondition(torch.nn.Module):
        def forward(self, x_t, t, cond):
            return 0.5 * x_t

    model.denoiser = IgnoresCondition()
    speaker = model.condition_windows(model.to_windows(model.encode(person(batch=1))))
    windows = model.sample_windows(speaker, num_samples=2, generator=torch.Generator().manual_seed(0))[0]  # (K, W, ...)
    # With a condition-blind denoiser, a window is a function of its initial noise alone.
    assert torch.equal(windows[:, 0], windows[:, 1]) == clip_noise
    assert not torch.equal(windows[0], windows[1])  # samples still differ


def test_ddpm_and_stochastic_ddim_sample():
    model = tiny_model()
    speaker = person(batch=1)
    for options in ({"sampler": "ddpm", "steps": 5}, {"eta": 1.0}):
        out = model.sample(speaker, num_samples=2, generator=torch.Generator().manual_seed(0), **options)
        assert out["emotion"].shape == (1, 2, FRAMES, 25)
    with pytest.raises(ValueError, match="unknown sampler"):
        model.sample(speaker, sampler="euler")


def generated_listener(model, speaker):
    latent = model.to_windows(model.encode(speaker))
    x_T = torch.randn(1, 2, 3, WINDOW, 8, generator=torch.Generator().manual_seed(0))
    windows = model.sample_windows(model.condition_windows(latent), num_samples=2, x_T=x_T)
    return model.decode(windows.reshape(2, FRAMES, 8))["coeffs_3dmm"].reshape(2, 3, WINDOW, 58)


def perturbed(speaker, window):
    changed = {name: value.clone() for name, value in speaker.items()}
    for value in changed.values():
        value[:, window * WINDOW : (window + 1) * WINDOW] += 3.0
    return changed


@pytest.mark.parametrize(
    ("online", "context", "lookahead"), [(True, 1, 0), (True, 2, 0), (False, 1, 0), (False, 2, 0), (False, 2, 1), (False, 1, 2)]
)
def test_generated_windows_see_exactly_their_speaker_context(online, context, lookahead):
    model = tiny_model(online=online, context_windows=context, lookahead_windows=lookahead)
    for parameter in model.denoiser.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    speaker = person(batch=1)
    base = generated_listener(model, speaker)
    for changed_window in range(3):
        changed = generated_listener(model, perturbed(speaker, changed_window))
        for window in range(3):
            # Window w is conditioned on speaker windows w - shift - context + 1 .. w - shift + lookahead.
            last_seen = window - int(online)
            sees = last_seen - context < changed_window <= last_seen + lookahead
            if sees:
                # A change must be clear, not rounding noise.
                assert (changed[:, window] - base[:, window]).abs().max().item() > 1e-3, (window, changed_window)
            else:
                assert torch.equal(changed[:, window], base[:, window]), (window, changed_window)


def test_latent_normalisation_round_trip():
    latents = torch.randn(500, 8) * 3 + 1
    for normalization in ("standard", "minmax"):
        model = tiny_model(normalization=normalization)
        model.set_latent_stats(latents)
        normalised = model.normalize_latent(latents)
        torch.testing.assert_close(model.denormalize_latent(normalised), latents, rtol=1e-4, atol=1e-4)
        if normalization == "minmax":
            assert normalised.min().item() == pytest.approx(-1, abs=1e-5)
            assert normalised.max().item() == pytest.approx(1, abs=1e-5)
        else:
            torch.testing.assert_close(normalised.mean(0), torch.zeros(8), atol=1e-4, rtol=0)
    assert "latent_std" in model.state_dict() and "latent_stats_ready" in model.state_dict()


def test_stats_required_and_bad_inputs_named():
    torch.manual_seed(0)
    model = build_model(tiny_config(), DIMS, KINDS)
    with pytest.raises(RuntimeError, match="set_latent_stats"):
        model.sample(person())
    model.set_latent_stats(torch.randn(10, 8))
    with pytest.raises(ValueError, match="multiple of the 10-frame window"):
        model.sample(person(frames=25))
    with pytest.raises(ValueError, match="'mfcc'"):
        model.encode({"emotion": person()["emotion"], "3dmm": person()["3dmm"]})
    with pytest.raises(ValueError, match="online generation needs autoencoder.context_frames"):
        config = tiny_config(online=True, lookahead_windows=0)
        whole_sequence = dataclasses.replace(config.autoencoder, context_frames=0)
        build_model(dataclasses.replace(config, autoencoder=whole_sequence), DIMS, KINDS)
    with pytest.raises(ValueError, match="lookahead_windows must be 0 online"):
        build_model(tiny_config(online=True, lookahead_windows=1), DIMS, KINDS)
    with pytest.raises(ValueError, match="not in the feature store"):
        build_model(dataclasses.replace(tiny_config(), streams=("emotion", "wav2vec2")), DIMS, KINDS)


def test_postprocess_emotion_ranges():
    raw = torch.randn(4, 25) * 3
    emotion = postprocess_emotion(raw)
    # AU occurrences are 0/1, thresholded at 0.5.
    torch.testing.assert_close(emotion[:, :15], (raw[:, :15] > 0.5).float())
    assert emotion[:, 15:17].abs().max() <= 1
    torch.testing.assert_close(emotion[:, 17:].sum(-1), torch.ones(4))
    assert postprocess_emotion(-torch.ones(1, 25))[0, 17:].tolist() == [0.125] * 8


def test_presets_build_with_their_published_sizes():
    counts = {}
    for name, preset in MODEL_PRESETS.items():
        with torch.device("meta"):  # shapes only: the paper preset would need ~2 GB of weights
            model = build_model(preset(), DIMS, KINDS)
        counts[name] = {part: sum(p.numel() for p in getattr(model, part).parameters())
                        for part in ("autoencoder", "condition_encoder", "denoiser")}
    # The paper preset's exact counts are pinned in tests/test_paper_preset.py.
    assert counts["default"]["denoiser"] < 5e6 < counts["paper"]["denoiser"]


def test_window_by_window_generation_equals_the_clip_call():
    model = tiny_model(online=True, context_windows=2, lookahead_windows=0)
    for parameter in model.denoiser.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    speaker = person(batch=1)
    clip = generated_listener(model, speaker)
    x_T = torch.randn(1, 2, 3, WINDOW, 8, generator=torch.Generator().manual_seed(0))
    # Online with two context windows: window w sees speaker windows w - 2 and w - 1 (zeros before the clip).
    seen = [torch.zeros(1, WINDOW, 8), torch.zeros(1, WINDOW, 8)]
    for window in range(3):
        frames = slice(window * WINDOW, (window + 1) * WINDOW)
        context = torch.cat(seen[-2:], dim=1).unsqueeze(1)
        latent = model.sample_windows(context, num_samples=2, x_T=x_T[:, :, window : window + 1])
        streamed = model.decode(latent.reshape(2, WINDOW, 8))["coeffs_3dmm"]
        torch.testing.assert_close(streamed, clip[:, window], rtol=1e-4, atol=1e-5)
        seen.append(model.encode({name: value[:, frames] for name, value in speaker.items()}))
    with pytest.raises(ValueError, match="condition_windows"):
        model.sample_windows(seen[-1].unsqueeze(1), num_samples=2)


def test_transformer_denoiser_skip_gate_lets_it_learn_low_rank_latents():
    from reactdiff.diffusion import NoiseSchedule
    from reactdiff.methods.reactdiff.condition import Condition
    from reactdiff.methods.reactdiff.config import DenoiserConfig
    from reactdiff.methods.reactdiff.transformer_denoiser import TransformerDenoiser

    schedule = NoiseSchedule(1000)
    generator = torch.Generator().manual_seed(0)
    basis = torch.randn(4, WINDOW * 32, generator=generator)  # windows live in a 4-d subspace
    x0 = (torch.randn(64, 4, generator=generator) @ basis).reshape(64, WINDOW, 32)
    x0 = x0 / x0.std()
    t = schedule.sample_timesteps(64, generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    x_t = schedule.add_noise(x0, noise, t)
    final = {}
    for gate in (False, True):
        torch.manual_seed(0)
        # Tokens of 16 numbers carry patches of 5 x 32 = 160: too narrow for full-rank noise.
        net = TransformerDenoiser(DenoiserConfig(cond_dim=4, width=16, depth=1, num_heads=2, cross_attention=False), WINDOW, 32)
        net.skip_gate.requires_grad_(gate)
        losses = train_steps(
            lambda: ((loss := (net(x_t, t, Condition(torch.zeros(64, 4))) - noise).abs().mean()), {"loss": loss.item()}),
            [p for p in net.parameters() if p.requires_grad],
            steps=30,
        )
        final[gate] = losses[-1]
    assert final[True] < 0.7 * final[False]
