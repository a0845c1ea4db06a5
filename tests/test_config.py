"""The one configuration system: defaults, files, flags, strictness."""

import argparse
import json
from dataclasses import dataclass, field

import pytest

from reactdiff.config import add_config_args, from_dict, replace, resolve_config, save_config, to_dict
from reactdiff.errors import ConfigError


@dataclass
class Optim:
    lr: float = 1e-4
    milestones: tuple[int, ...] = (20, 25)


@dataclass
class Settings:
    name: str = "run"
    steps: int = 10
    use_ema: bool = True
    optim: Optim = field(default_factory=Optim)


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_config_args(parser, Settings)
    return parser.parse_args(argv)


def test_defaults_flags_and_file(tmp_path):
    assert resolve_config(Settings, _parse([])) == Settings()
    path = tmp_path / "run.yaml"
    path.write_text("steps: 5\noptim:\n  lr: 0.01\n")
    config = resolve_config(Settings, _parse(["--config", str(path), "--optim.milestones", "3", "4", "--steps", "7"]))
    assert config == Settings(steps=7, optim=Optim(lr=0.01, milestones=(3, 4)))


def test_unknown_keys_and_wrong_types_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key.*optim.momentum"):
        from_dict(Settings, {"optim": {"momentum": 0.9}})
    with pytest.raises(ConfigError, match="steps: expected an integer"):
        from_dict(Settings, {"steps": "many"})
    with pytest.raises(ConfigError, match="use_ema: expected true/false"):
        resolve_config(Settings, _parse(["--use_ema", "3"]))
    with pytest.raises(SystemExit):
        _parse(["--optim.momentum", "0.9"])


def test_save_round_trip(tmp_path):
    config = replace(Settings(), **{"optim.lr": 0.5})
    save_config(config, tmp_path / "config.json")
    assert from_dict(Settings, json.loads((tmp_path / "config.json").read_text())) == config
    assert to_dict(config)["optim"]["milestones"] == [20, 25]


def test_a_partial_section_starts_from_the_stage_defaults(tmp_path):
    """`optim: {weight_decay: 0}` in a stage's YAML keeps that stage's own lr (5e-5 in ReactDiff's
    stage 2), not OptimConfig's bare default."""
    from reactdiff.config import load_file
    from reactdiff.methods.reactdiff.config import DiffusionTrainConfig

    path = tmp_path / "stage.yaml"
    path.write_text("optim:\n  weight_decay: 0.0\n")
    config = load_file(DiffusionTrainConfig, path)
    assert config.optim.lr == DiffusionTrainConfig().optim.lr == 5e-5 and config.optim.weight_decay == 0.0
