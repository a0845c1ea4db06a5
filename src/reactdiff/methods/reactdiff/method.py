"""ReactDiff (Li et al., 2025) in the method registry: a behaviour autoencoder (stage 1) and a
window-wise conditional latent diffusion (stage 2, autoencoder frozen). Networks:
:mod:`reactdiff.methods.reactdiff.model`; training stages: ``stage_autoencoder`` and ``stage_diffusion``."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from reactdiff.errors import ConfigError
from reactdiff.methods.base import Method, StageSpec, check_divisible, check_positive
from reactdiff.methods.reactdiff.config import AutoencoderTrainConfig, DiffusionTrainConfig, ModelConfig
from reactdiff.methods.reactdiff.presets import paper_train_settings

#: Model settings added after checkpoints were first written, with the value that reproduces the
#: behaviour of a checkpoint that predates them (a missing key would otherwise take today's default).
LEGACY_DEFAULTS = {("diffusion", "lookahead_windows"): 0}


#: The demo budget of both stages (see ``ReactDiffMethod.budgets``).
_DEMO = {
    "autoencoder": {"steps": 320, "batch_size": 8, "crop_frames": 100, "optim.lr": 5e-4, "optim.warmup_steps": 50},
    "diffusion": {"steps": 4200, "batch_size": 8, "crop_frames": 100, "optim.lr": 5e-4, "optim.warmup_steps": 50},
}


class ReactDiffMethod(Method):
    name = "reactdiff"
    title = "ReactDiff: MMT behaviour autoencoder + window-wise latent diffusion (Li et al., 2025)"
    config_class = ModelConfig
    stages = (
        StageSpec(
            "autoencoder", "stage 1: behaviour autoencoder on every person's own streams",
            AutoencoderTrainConfig, "reactdiff.methods.reactdiff.stage_autoencoder:AutoencoderStage",
        ),
        StageSpec(
            "diffusion", "stage 2: latent diffusion of listener windows given speaker windows (frozen autoencoder)",
            DiffusionTrainConfig, "reactdiff.methods.reactdiff.stage_diffusion:DiffusionStage", requires="autoencoder",
        ),
    )
    #: ``batched_windows`` (online checkpoints only): sample every window of a clip in one batched
    #: call (about 4x faster on a CPU for the `live` preset's 10-frame windows, benchmarks/bench_model.py) instead of window by window as a live
    #: session does; the numbers then equal the live agent's to ~1e-6, not bit for bit.
    #: ``decoder_dropout``: the reference's generation with the decoder's dropout left on (a defect,
    #: off by default; for comparisons with published numbers).
    #: ``guidance``: classifier-free guidance scale (checkpoints trained with ``diffusion.cond_dropout``).
    sampling_options = {"steps": int, "eta": float, "sampler": str, "batched_windows": bool, "decoder_dropout": bool,
                        "guidance": float}
    #: Demo: batch 8 x 100-frame crops and lr 5e-4 / 5e-4 so a CPU makes enough steps (stage 2 at
    #: lr 2e-4 / 5e-4 / 1e-3 gave val FRDist 123.7 / 119.3 / 122.3 in 7 minutes, docs/results.md);
    #: the step counts are those of the documented demo run (326 + 4197 steps in 3 + 7 minutes).
    budgets = {
        "tiny": {
            "autoencoder": {"preset": "tiny", "steps": 30, "batch_size": 4, "crop_frames": 100, "optim.warmup_steps": 5, "val_every": 15, "checkpoint_every": 15},
            "diffusion": {"steps": 60, "batch_size": 4, "crop_frames": 100, "optim.warmup_steps": 5, "val_every": 30, "checkpoint_every": 30},
        },
        "demo": _DEMO,
        # The demo budget with classifier-free guidance (not the paper's): condition dropout 0.1 in
        # stage 2, sampled at guidance 1.5. A benchmark row of its own (``reactdiff:demo-guided``);
        # measured against ``demo`` in docs/results.md.
        "demo-guided": {**_DEMO, "diffusion": {**_DEMO["diffusion"], "model.diffusion.cond_dropout": 0.1,
                                               "model.diffusion.guidance": 1.5}},
        "long": {
            "autoencoder": {"steps": 2000, "batch_size": 8, "crop_frames": 100, "optim.lr": 5e-4, "optim.warmup_steps": 100},
            "diffusion": {"steps": 25000, "batch_size": 8, "crop_frames": 100, "optim.lr": 5e-4, "optim.warmup_steps": 100},
        },
        # The published recipe: the authors' networks (preset "paper") and training (whole clips,
        # batch 16, 200 epochs of REACT 2024's train split, no warm-up or decay).
        "paper": {
            stage: dict(values, preset="paper") if stage == "autoencoder" else values
            for stage, values in paper_train_settings().items()
        },
    }

    @property
    def presets(self):
        from reactdiff.methods.reactdiff.presets import MODEL_PRESETS

        return MODEL_PRESETS

    def validate_config(self, config: ModelConfig) -> None:
        if not config.streams:
            raise ConfigError("model.streams: the model needs at least one input stream")
        ae, den, diff = config.autoencoder, config.denoiser, config.diffusion
        check_positive(ae, ("hidden_dim", "num_heads", "intra_depth", "inter_depth", "latent_dim", "decoder_layers",
                            "decoder_heads", "decoder_ff_dim"), "model.autoencoder.")
        check_divisible(ae.hidden_dim, ae.num_heads, "hidden_dim", "num_heads", "model.autoencoder.")
        check_divisible(ae.latent_dim, ae.decoder_heads, "latent_dim", "decoder_heads", "model.autoencoder.")
        for name, value in (("autoencoder.dropout", ae.dropout), ("autoencoder.mmt_dropout", ae.mmt_dropout), ("denoiser.dropout", den.dropout)):
            if value is not None and not 0 <= value < 1:
                raise ConfigError(f"model.{name}: must be in [0, 1), got {value}")
        if ae.audio_depth is not None and ae.audio_depth < 0:
            raise ConfigError(f"model.autoencoder.audio_depth: must not be negative, got {ae.audio_depth}")
        if den.condition_join == "concat" and den.name != "unet1d":
            raise ConfigError("model.denoiser.condition_join: 'concat' (the authors' U-Net) needs model.denoiser.name unet1d")
        if ae.context_frames < 0:
            raise ConfigError(f"model.autoencoder.context_frames: must be 0 (whole sequence) or positive, got {ae.context_frames}")
        check_positive(den, ("cond_dim", "width", "depth", "num_heads", "mlp_ratio", "patch_frames", "model_channels",
                             "num_res_blocks", "unet_heads"), "model.denoiser.")
        check_divisible(den.width, den.num_heads, "width", "num_heads", "model.denoiser.")
        if any(m <= 0 for m in den.channel_mult) or not den.channel_mult:
            raise ConfigError(f"model.denoiser.channel_mult: positive multipliers, got {list(den.channel_mult)}")
        check_positive(diff, ("train_steps", "sample_steps", "window", "context_windows", "loss_weight"), "model.diffusion.")
        if diff.window % den.patch_frames:
            raise ConfigError(f"model.denoiser.patch_frames ({den.patch_frames}) must divide model.diffusion.window ({diff.window})")
        if diff.sample_steps > diff.train_steps:
            raise ConfigError(f"model.diffusion.sample_steps ({diff.sample_steps}) cannot exceed model.diffusion.train_steps ({diff.train_steps})")
        if diff.eta < 0:
            raise ConfigError(f"model.diffusion.eta: must not be negative, got {diff.eta}")
        if diff.lookahead_windows < 0 or (diff.online and diff.lookahead_windows):
            raise ConfigError(
                f"model.diffusion.lookahead_windows: must be 0 online and >= 0 offline, got {diff.lookahead_windows} "
                "(online generation never sees later speaker windows; set --model.diffusion.lookahead_windows 0)"
            )
        if diff.online and (ae.context_frames <= 0 or diff.window % ae.context_frames):
            raise ConfigError(
                f"model.autoencoder.context_frames: online generation needs it to divide the {diff.window}-frame window "
                f"(got {ae.context_frames}); whole-sequence attention would look into the future"
            )
        if diff.clip_x0 is not None and diff.clip_x0 <= 0:
            raise ConfigError(f"model.diffusion.clip_x0: must be positive or null, got {diff.clip_x0}")
        if not 0 <= diff.cond_dropout < 1:
            raise ConfigError(f"model.diffusion.cond_dropout: a probability in [0, 1), got {diff.cond_dropout}")
        _check_guidance(diff.guidance, diff.cond_dropout, "model.diffusion.guidance")
        if den.name == "unet1d" and den.cross_attention:
            raise ConfigError("model.denoiser.cross_attention: the unet1d denoiser has none; set it to false or use the transformer denoiser")

    def is_online(self, config: ModelConfig) -> bool:
        return bool(config.diffusion.online)

    def online_variant(self, config: ModelConfig) -> ModelConfig:
        diffusion = dataclasses.replace(config.diffusion, online=True, lookahead_windows=0)
        return dataclasses.replace(config, diffusion=diffusion)

    def frame_multiple(self, config: ModelConfig) -> int:
        return int(config.diffusion.window)

    def sampling_defaults(self, config: ModelConfig) -> dict[str, Any]:
        return {"steps": config.diffusion.sample_steps, "eta": config.diffusion.eta, "sampler": "ddim", "batched_windows": False,
                "decoder_dropout": False, "guidance": config.diffusion.guidance}

    def check_sampling(self, config: ModelConfig, options: Mapping[str, Any]) -> dict[str, Any]:
        from reactdiff.diffusion.samplers import SAMPLERS

        resolved = super().check_sampling(config, options)
        train_steps = config.diffusion.train_steps
        if not 1 <= resolved["steps"] <= train_steps:
            raise ConfigError(f"--steps: {resolved['steps']} is outside 1..{train_steps} (the checkpoint's training schedule)")
        if resolved["eta"] < 0:
            raise ConfigError(f"--eta: must not be negative, got {resolved['eta']}")
        if resolved["sampler"] not in SAMPLERS:
            raise ConfigError(f"--sampler: {resolved['sampler']!r} is not one of {', '.join(sorted(SAMPLERS))}")
        _check_guidance(resolved["guidance"], config.diffusion.cond_dropout, "--option guidance")
        return resolved

    def upgrade_config(self, data: dict) -> dict:
        data = {section: dict(values) if isinstance(values, dict) else values for section, values in data.items()}
        for (section, key), value in LEGACY_DEFAULTS.items():
            if isinstance(data.get(section), dict):
                data[section].setdefault(key, value)
        return data

    def build(self, config: ModelConfig, stream_dims, stream_kinds):
        from reactdiff.methods.reactdiff.model import ReactDiffModel

        self.validate_config(config)
        return ReactDiffModel(config, dict(stream_dims), dict(stream_kinds))

    def describe(self, model) -> dict[str, int]:
        def count(module) -> int:
            return sum(p.numel() for p in module.parameters())

        parts = {"autoencoder": count(model.autoencoder), "condition": count(model.condition_encoder), "denoiser": count(model.denoiser)}
        parts["total"] = count(model)
        return parts

    def generate(self, model, speaker, num_samples, generator, steps=None, eta=None, sampler="ddim", batched_windows=False,
                 decoder_dropout=False, guidance=None):
        if model.config.diffusion.online and not batched_windows:
            # Window by window in the live session's shapes, so offline numbers are the live agent's bit for bit.
            from reactdiff.methods.reactdiff.online import sample_online

            return sample_online(model, speaker, num_samples, generator, steps=steps, eta=eta, sampler=sampler,
                                 decoder_dropout=decoder_dropout, guidance=guidance)
        return model.sample(speaker, num_samples=num_samples, steps=steps, eta=eta, sampler=sampler, generator=generator,
                            decoder_dropout=decoder_dropout, guidance=guidance)


def _check_guidance(guidance: float, cond_dropout: float, name: str) -> None:
    """A guidance scale other than 1 needs the unconditional model, which only condition dropout trains."""
    if guidance < 0:
        raise ConfigError(f"{name}: must not be negative, got {guidance}")
    if guidance != 1 and cond_dropout == 0:
        raise ConfigError(
            f"{name} = {guidance}: this model was trained without condition dropout (model.diffusion.cond_dropout 0), "
            "so it has no unconditional prediction to guide with; train stage 2 with --model.diffusion.cond_dropout 0.1"
        )


METHOD = ReactDiffMethod()
