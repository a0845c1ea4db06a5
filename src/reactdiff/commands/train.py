"""``reactdiff train autoencoder|diffusion``: the two training stages of ReactDiff.

Every setting is a flag generated from the stage's TrainConfig (``--optim.lr``, ``--steps``,
``--max_minutes``, ``--batch_size``, ``--preset``, ``--model.autoencoder.latent_dim``...). Re-running
the same command on the same ``--out`` continues the run from ``<out>/last`` (exactly: optimizer,
LR schedule, EMA, step and RNG). Launch under ``torchrun --nproc_per_node N`` for data-parallel
training; nothing else changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from reactdiff.config import add_config_args, from_dict, replace, resolve_config
from reactdiff.errors import ConfigError

STAGE_HELP = {
    "autoencoder": "stage 1: behaviour autoencoder on every person's own streams",
    "diffusion": "stage 2: latent diffusion of listener windows given speaker windows (frozen autoencoder)",
}


def register(subparsers) -> None:
    from reactdiff.train.config import STAGE_CONFIGS

    parser = subparsers.add_parser(
        "train",
        help="train the autoencoder (stage 1) or the latent diffusion (stage 2)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stages = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    for name, config_class in STAGE_CONFIGS.items():
        stage = stages.add_parser(name, help=STAGE_HELP[name], description=STAGE_HELP[name])
        stage.add_argument("--data", type=Path, required=True, help="dataset root prepared by `reactdiff prepare`")
        stage.add_argument("--out", type=Path, required=True, help="run folder (checkpoints in last/ and best/, logs/)")
        if name == "diffusion":
            stage.add_argument("--autoencoder", type=Path, required=True, help="stage-1 checkpoint or run folder")
        stage.add_argument(
            "--resume", action="store_true", help="require an existing run in --out to continue (default: continue if there is one)"
        )
        add_config_args(stage, config_class)
        stage.set_defaults(func=run, config_class=config_class)


def _explicit_model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``model.*`` settings the user gave (config file, then flags), as dotted keys."""
    explicit: dict[str, Any] = {}
    if args.config is not None and args.config.is_file():
        data = yaml.safe_load(args.config.read_text()) or {}
        explicit.update(_flatten(data.get("model", {}) if isinstance(data, dict) else {}, "model."))
    explicit.update({name[4:]: value for name, value in vars(args).items() if name.startswith("cfg:model.")})
    return explicit


def _flatten(data: dict, prefix: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _with_model(config, base_model, explicit: dict[str, Any]):
    """``config`` whose model settings are ``base_model`` with the user's explicit overrides."""
    model = replace(base_model, **{key[len("model."):]: value for key, value in explicit.items()})
    return dataclasses.replace(config, model=model)


def resolve_train_config(config_class, args: argparse.Namespace, autoencoder_model=None):
    """Defaults, ``--config``, flags; the model settings start from the preset (stage 1) or from
    the autoencoder checkpoint (stage 2), with ``--model.*`` overriding single fields. A run being
    resumed starts from its saved config instead, and flags override it."""
    from reactdiff.methods.reactdiff import MODEL_PRESETS

    last = args.out / "last" / "config.json"
    if last.is_file():
        from reactdiff.io import load_json

        saved = from_dict(config_class, load_json(last)["train"])
        flags = {name[4:]: value for name, value in vars(args).items() if name.startswith("cfg:")}
        return replace(saved, **flags) if flags else saved
    config = resolve_config(config_class, args)
    explicit = _explicit_model_settings(args)
    if autoencoder_model is not None:
        return _with_model(config, autoencoder_model, explicit)
    if config.preset not in MODEL_PRESETS:
        raise ConfigError(f"preset: unknown preset {config.preset!r}; choose from {', '.join(MODEL_PRESETS)}")
    return _with_model(config, MODEL_PRESETS[config.preset](), explicit)


def run(args: argparse.Namespace) -> int:
    from reactdiff.config import save_config
    from reactdiff.train.loop import train

    resume = True if args.resume else None
    if args.stage == "autoencoder":
        from reactdiff.methods.reactdiff.stage_autoencoder import AutoencoderStage

        config = resolve_train_config(args.config_class, args)
        stage, model, extra = AutoencoderStage(), None, {}
    else:
        from reactdiff.checkpoint import load_checkpoint
        from reactdiff.methods.reactdiff.stage_diffusion import DiffusionStage

        autoencoder = load_checkpoint(args.autoencoder)
        config = resolve_train_config(args.config_class, args, autoencoder_model=autoencoder.model_config)
        config = dataclasses.replace(config, preset=autoencoder.train_config.get("preset", config.preset))
        stage, extra = DiffusionStage(), {"autoencoder": str(autoencoder.directory)}
        model = _diffusion_model(config, args.data, autoencoder) if not (args.out / "last" / "checkpoint.json").is_file() else None
    config.validate()
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun only rank 0 writes
        save_config(config, args.out / "train_config.json")
    result = train(stage, config, args.data, args.out, model=model, resume=resume, extra_manifest=extra)
    best = f"; best val loss {result.best_val_loss:.4f}" if result.best_val_loss is not None else ""
    print(f"{args.stage}: {result.step} steps, last train loss {result.train_loss:.4f}{best}; checkpoints in {args.out}")
    return 0


def _diffusion_model(config, data_root: Path, autoencoder):
    """A fresh model holding the stage-1 weights, after checking the data has the streams (and
    widths) the autoencoder was trained on."""
    from reactdiff.data.store import FeatureStore
    from reactdiff.errors import DataError
    from reactdiff.methods.reactdiff import build_model
    from reactdiff.methods.reactdiff.stage_diffusion import load_autoencoder
    from reactdiff.train.loop import stream_description

    store = FeatureStore(data_root / "features")
    streams = stream_description(store, tuple(config.model.streams))
    for name, info in streams.items():
        expected = autoencoder.streams.get(name)
        if expected is not None and expected["dim"] != info["dim"]:
            raise DataError(store.directory, f"stream '{name}' is {info['dim']}-d but the autoencoder {autoencoder.directory} was trained on {expected['dim']}-d")
    model = build_model(config.model, {n: i["dim"] for n, i in streams.items()}, {n: i["kind"] for n, i in streams.items()})
    load_autoencoder(model, autoencoder)
    return model
