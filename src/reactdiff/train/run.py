"""Training as a library call, for every registered method: what ``reactdiff train``, the demo and
the benchmark run.

    from reactdiff.train.run import train_method, train_stage
    train_stage("reactdiff", "autoencoder", data, "runs/rd/autoencoder", settings={"steps": 300})
    train_method("transvae", data, "runs/transvae")            # every stage, in order, out/<stage>

Settings are dotted keys of the stage's TrainConfig (``{"optim.lr": 5e-4, "model.denoiser.depth": 3}``).
The model settings start from the method's preset (``preset``) or, for a stage that continues an
earlier one, from that stage's checkpoint; explicit ``model.*`` settings override single fields.
A run folder that already holds a run is continued from its saved settings (flags still override,
and a change of model settings is refused).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

import yaml

from reactdiff.config import from_dict, load_file, replace
from reactdiff.errors import ConfigError, DataError
from reactdiff.checkpoint import RUN_RECORD
from reactdiff.io import load_json, save_json
from reactdiff.methods.registry import get_method


def _flatten(data: Mapping, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def resolve_stage_config(method, stage, out: Path, settings: Mapping[str, Any] | None = None,
                         config_file: Path | None = None, previous=None):
    """The stage's TrainConfig: a resumed run's saved one, or defaults < config file < settings,
    with the model from the preset or ``previous`` (a MethodCheckpoint of the required stage)."""
    from reactdiff.checkpoint import recover

    settings = dict(settings or {})
    recover(out / "last")
    last = out / "last" / "config.json"
    if last.is_file():
        saved = load_json(last)
        train = dict(saved.get("train", {}))
        if isinstance(train.get("model"), dict):
            train["model"] = method.upgrade_config(train["model"])
        config = from_dict(stage.config_class, train)
        return replace(config, **settings) if settings else config
    config = load_file(stage.config_class, config_file) if config_file else stage.config_class()
    explicit: dict[str, Any] = {}
    if config_file is not None:
        data = yaml.safe_load(Path(config_file).read_text()) or {}
        if isinstance(data, dict) and isinstance(data.get("model"), Mapping):
            explicit.update(_flatten(data["model"], "model."))
    explicit.update({key: value for key, value in settings.items() if key.startswith("model.")})
    others = {key: value for key, value in settings.items() if not key.startswith("model.")}
    if others:
        config = replace(config, **others)
    if previous is not None:
        config = dataclasses.replace(config, preset=previous.checkpoint.train_config.get("preset", config.preset))
        base_model = previous.config
    else:
        base_model = method.preset(config.preset)
    model = replace(base_model, "model.", **{key[len("model."):]: value for key, value in explicit.items()})
    return dataclasses.replace(config, model=model)


def _data_fps(data: Path) -> float:
    from reactdiff.data.layouts import open_layout

    return float(open_layout(data).fps)


def flatten_config_file(path: Path) -> dict[str, Any]:
    """A stage's YAML/JSON settings file as dotted settings (``optim: {lr: 1}`` -> ``optim.lr``)."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return _flatten(data)


def _previous_stage(method, stage, previous_path: Path | None):
    """The checkpoint a stage continues from (None for a first stage), checked to be the right one."""
    from reactdiff.methods.loading import load_method_checkpoint

    if stage.requires is None:
        if previous_path is not None:
            raise ConfigError(f"{method.name} {stage.name} starts from scratch; it takes no earlier checkpoint")
        return None
    if previous_path is None:
        raise ConfigError(f"{method.name} {stage.name} continues the '{stage.requires}' stage: give --{stage.requires} CHECKPOINT")
    previous = load_method_checkpoint(previous_path)
    found = f"{previous.method.name} {previous.checkpoint.stage}"
    if previous.method.name != method.name or previous.checkpoint.stage != stage.requires:
        raise DataError(previous.checkpoint.directory, f"is a {found} checkpoint; {method.name} {stage.name} needs a {method.name} {stage.requires} checkpoint")
    return previous


def _initial_model(method, trainer, config, data_root: Path, previous):
    """A model holding the earlier stage's networks, after checking the data has the streams (and
    widths) that stage was trained on."""
    import torch

    from reactdiff.store import FeatureStore
    from reactdiff.train.loop import stream_description

    store = FeatureStore(data_root / "features")
    streams = stream_description(store, tuple(trainer.data_streams(config.model)))
    for name, info in streams.items():
        expected = previous.checkpoint.streams.get(name)
        if expected is not None and expected["dim"] != info["dim"]:
            raise DataError(store.directory, f"stream '{name}' is {info['dim']}-d but {previous.checkpoint.directory} was trained on {expected['dim']}-d")
    model_streams = {name: streams[name] for name in method.input_streams(config.model)}
    # The new stage's networks are initialised here, before the training loop seeds its RNGs: seed
    # them from the stage's own seed, or a stage started in a fresh process (`reactdiff train
    # reactdiff diffusion --autoencoder ...`) starts from a different random model on every run.
    torch.manual_seed(config.seed)
    model = method.build(config.model, {n: i["dim"] for n, i in model_streams.items()}, {n: i["kind"] for n, i in model_streams.items()})
    trainer.initialize(model, previous.checkpoint)
    return model


def train_stage(method_name: str, stage_name: str | None, data: str | Path, out: str | Path, *,
                settings: Mapping[str, Any] | None = None, config_file: Path | None = None,
                previous: str | Path | None = None, resume: bool | None = None):
    """Train (or continue) one stage of a method; returns the loop's TrainResult."""
    from reactdiff.train.loop import train

    method = get_method(method_name)
    stage = method.stage(stage_name)
    data, out = Path(data), Path(out)
    previous_checkpoint = _previous_stage(method, stage, Path(previous) if previous is not None else None)
    config = resolve_stage_config(method, stage, out, settings, config_file, previous_checkpoint)
    config.validate(frame_multiple=method.frame_multiple(config.model))
    method.validate_config(config.model)
    trainer = stage.load_trainer()
    model = None
    if previous_checkpoint is not None and not (out / "last" / "checkpoint.json").is_file():
        model = _initial_model(method, trainer, config, data, previous_checkpoint)
    extra = {stage.requires: str(previous_checkpoint.checkpoint.directory)} if previous_checkpoint is not None else {}
    # The frame rate the model learned time at: generation and own clips must feed it the same one.
    extra["fps"] = _data_fps(data)
    return train(method, trainer, config, data, out, model=model, resume=resume, extra_manifest=extra)


def train_method(method_name: str, data: str | Path, out: str | Path, *,
                 settings: Mapping[str, Mapping[str, Any]] | None = None, common: Mapping[str, Any] | None = None,
                 config_file: Path | None = None) -> dict[str, Any]:
    """Train every stage of a method in order, stage S into ``out/S`` (each continuing the one it
    requires). ``settings``: per stage name, dotted settings (a recipe such as
    ``method.budget("demo")``); ``config_file``: YAML/JSON with one section per stage name, which
    overrides them; ``common``: settings for every stage (e.g. seed, device), applied last."""
    method = get_method(method_name)
    out = Path(out)
    sections: dict[str, Any] = {}
    if config_file is not None:
        sections = yaml.safe_load(Path(config_file).read_text()) or {}
        unknown = [key for key in sections if key not in {s.name for s in method.stages}]
        if not isinstance(sections, dict) or unknown:
            raise ConfigError(f"{config_file}: expected one section per stage of {method.name} ({', '.join(s.name for s in method.stages)}); unknown: {', '.join(map(str, unknown))}")
    settings = dict(settings or {})
    unknown = [name for name in settings if name not in {s.name for s in method.stages}]
    if unknown:
        raise ConfigError(f"{method.name} has no stage {', '.join(map(repr, unknown))}; its stages: {', '.join(s.name for s in method.stages)}")
    results = {}
    for stage in method.stages:
        # A recipe's settings < the config file's section < settings for every stage (e.g. seed).
        stage_settings = {**settings.get(stage.name, {}), **_flatten(sections.get(stage.name) or {}), **(common or {})}
        previous = out / stage.requires if stage.requires else None
        results[stage.name] = train_stage(method.name, stage.name, data, out / stage.name, settings=stage_settings, previous=previous)
    # Names the final stage, so the run folder itself can be passed wherever a checkpoint is read.
    save_json(out / RUN_RECORD, {"method": method.name, "stages": [stage.name for stage in method.stages],
                                 "final_stage": method.stages[-1].name})
    return results
