"""One configuration system for the whole package.

Every command's settings are a (nested) dataclass whose field defaults are the defaults. The same
dataclass generates the command-line flags (``--model.latent_dim 128``), reads JSON/YAML files
(``--config run.yaml``) and rejects unknown keys and ill-typed values with a clear message. The
resolved config is saved as JSON beside every artefact a command writes (``save_config``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from reactdiff.errors import ConfigError

T = TypeVar("T")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` (and convert lists to tuples, ints to floats)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: {value!r} does not fit {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {list(args)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        item_type = args[0] if args else Any
        items = [_coerce(item, item_type, f"{key}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if _is_dataclass_type(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return from_dict(tp, value, prefix=f"{key}.")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            # YAML 1.1 reads "5e-4" (no dot) as a string; accept any numeric spelling.
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build ``cls`` from a mapping; unknown keys and wrong types are errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    types_by_name = _field_types(cls)
    unknown = sorted(set(data) - set(types_by_name))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"valid keys at this level: {', '.join(prefix + k for k in types_by_name)}"
        )
    defaults = {field.name: field for field in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in data.items():
        field_default = defaults[name].default_factory if defaults[name].default_factory is not dataclasses.MISSING else None
        if isinstance(value, dict) and _is_dataclass_type(types_by_name[name]) and field_default is not None:
            # A partial section starts from *this* class's default for the field (e.g. a stage's
            # own optimiser defaults), not from the nested class's bare defaults.
            value = _merged(to_dict(field_default()), value)
        kwargs[name] = _coerce(value, types_by_name[name], prefix + name)
    return cls(**kwargs)


def _merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain JSON-able data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def load_file(cls: type[T], path: str | Path) -> T:
    """Read a JSON or YAML config file (never a pickle)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML/JSON ({exc})") from exc
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def save_config(config: Any, path: str | Path) -> None:
    from reactdiff.io import save_json

    save_json(path, to_dict(config))


def _leaves(cls: type, prefix: str = ""):
    for name, tp in _field_types(cls).items():
        if _is_dataclass_type(tp):
            yield from _leaves(tp, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", tp


def _default_of(cls: type, dotted: str) -> Any:
    value: Any = cls()
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def add_config_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add ``--config FILE`` and one ``--dotted.key VALUE`` flag per leaf field of ``cls``.

    Values are parsed as YAML scalars/lists (``--model.channel_mult "[1,2,4]"``) and type-checked
    against the dataclass when the config is resolved.
    """
    group = parser.add_argument_group("configuration (defaults shown; see `--config`)")
    group.add_argument("--config", type=Path, default=None, help="JSON/YAML file of settings to start from")
    for dotted, tp in _leaves(cls):
        if dotted in skip:
            continue
        default = _default_of(cls, dotted)
        is_list = typing.get_origin(tp) in (tuple, list)
        group.add_argument(
            f"--{dotted}",
            dest=f"cfg:{dotted}",
            default=argparse.SUPPRESS,
            type=yaml.safe_load,
            # Lists are given as separate words (`--streams emotion mfcc`) or as one YAML list.
            nargs="+" if is_list else None,
            metavar="V",
            help=f"default: {json.dumps(list(default) if isinstance(default, tuple) else default)}",
        )


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--dotted.key`` flags the user gave, as ``{dotted key: value}``."""
    settings = {}
    for name, value in vars(args).items():
        if name.startswith("cfg:"):
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                value = value[0]  # one YAML list given as a single word
            settings[name[4:]] = value
    return settings


def resolve_config(cls: type[T], args: argparse.Namespace, **overrides: Any) -> T:
    """Defaults, then ``--config`` file, then ``--key`` flags, then ``overrides`` (dotted keys)."""
    base = load_file(cls, args.config) if getattr(args, "config", None) else cls()
    data = to_dict(base)
    for dotted, value in {**flag_settings(args), **overrides}.items():
        _set_dotted(data, dotted, value)
    return from_dict(cls, data)


def replace(config: T, _prefix: str = "", **dotted_values: Any) -> T:
    """Return a copy of ``config`` with dotted keys replaced (type-checked); errors name the keys
    with ``_prefix`` in front (``"model."`` for a model config inside a training config)."""
    data = to_dict(config)
    for dotted, value in dotted_values.items():
        _set_dotted(data, dotted.replace("__", "."), value)
    return from_dict(type(config), data, prefix=_prefix)
