"""Self-describing, pickle-free checkpoints, for every method.

A checkpoint is a directory::

    model.safetensors           EMA weights (what validation and generation use)
    weights.safetensors         raw weights (what training continues from)
    config.json                 {"method", "stage", "model": model config, "train": stage settings} as resolved
    streams.json                {stream: {dim, kind, approximate, source}} of the training data
    training_state.safetensors  optimizer state tensors            (resumable checkpoints only)
    training_state.json         step, elapsed time, best val, RNG states, optimizer groups
    checkpoint.json             manifest, written LAST: method (and its version), stage, step, and the
                                SHA-256 of every other file; a directory without it is incomplete

Files are written into a staging directory (each atomically) which then replaces the previous
checkpoint by directory renames (``X`` -> ``.X.previous``, ``.X.staging`` -> ``X``). A crash between
the two renames leaves no ``X`` but a complete ``.X.previous`` and ``.X.staging``: loading recovers
the newest complete one (:func:`recover`). Every file is checked against its recorded SHA-256 when
read, so flipped bytes are an error instead of different reactions.

The format knows nothing about methods: :func:`reactdiff.methods.loading.load_method_checkpoint`
turns the ``model`` section into the method's config and builds its networks.
"""

from __future__ import annotations

import base64
import hashlib
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reactdiff.config import to_dict
from reactdiff.errors import DataError
from reactdiff.io import load_json, save_json, save_safetensors

FORMAT = "reactdiff-checkpoint"
#: 2: the manifest names the method and records file hashes (version-1 checkpoints are ReactDiff's).
VERSION = 2
MANIFEST = "checkpoint.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Checkpoint:
    """A loaded checkpoint directory (weights are read, and verified, on demand)."""

    directory: Path
    manifest: dict[str, Any]
    #: The model config as saved (a method's config dataclass as JSON).
    model: dict[str, Any]
    train_config: dict[str, Any]
    streams: dict[str, dict[str, Any]]
    training_state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def method(self) -> str:
        return self.manifest.get("method", "reactdiff")

    @property
    def stage(self) -> str:
        return self.manifest["stage"]

    @property
    def step(self) -> int:
        return int(self.manifest["step"])

    def verify(self, name: str) -> Path:
        """The path of file ``name``, after checking it against the manifest's SHA-256."""
        path = self.directory / name
        if not path.is_file():
            raise DataError(path, "file missing from checkpoint")
        expected = self.manifest.get("sha256", {}).get(name)
        if expected is not None and file_sha256(path) != expected:
            raise DataError(path, "contents do not match the SHA-256 in checkpoint.json (corrupted or edited); restore the file or retrain")
        return path

    def weights(self, ema: bool = True) -> dict[str, torch.Tensor]:
        """EMA weights (``model.safetensors``) or raw weights (``weights.safetensors``)."""
        return _load_tensors(self.verify("model.safetensors" if ema else "weights.safetensors"))

    def optimizer_state(self) -> dict[str, Any]:
        """The optimizer ``state_dict`` rebuilt from its tensors and its JSON part."""
        if self.training_state is None:
            raise DataError(self.directory, "checkpoint has no training state to resume from")
        tensors = _load_tensors(self.verify("training_state.safetensors"))
        state: dict[int, dict[str, Any]] = {}
        for name, tensor in tensors.items():
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = tensor
        for index, values in self.training_state["optimizer_scalars"].items():
            state.setdefault(int(index), {}).update(values)
        return {"state": state, "param_groups": self.training_state["optimizer_param_groups"]}


def load_weights(module: torch.nn.Module, weights: dict[str, torch.Tensor], source: str | Path) -> None:
    """``module.load_state_dict(weights)``, strictly, failing with a DataError that names ``source``
    and the mismatching tensors (a checkpoint from other settings or another reactdiff version)."""
    state = module.state_dict()
    missing = [name for name in state if name not in weights]
    unexpected = [name for name in weights if name not in state]
    reshaped = [name for name in state if name in weights and weights[name].shape != state[name].shape]
    if missing or unexpected or reshaped:
        problems = []
        for label, names in (("missing", missing), ("unexpected", unexpected), ("other shape", reshaped)):
            if names:
                problems.append(f"{label}: {', '.join(names[:4])}{' ...' if len(names) > 4 else ''}")
        raise DataError(source, f"weights do not fit the model ({'; '.join(problems)}); the checkpoint was written with other model settings or another reactdiff version")
    module.load_state_dict(weights)


def _complete(directory: Path) -> bool:
    return (directory / MANIFEST).is_file()


def recover(directory: str | Path) -> None:
    """Finish a save that crashed between its two renames: with ``directory`` missing, adopt the
    complete staged checkpoint (newer) or else the complete previous one. No-op otherwise."""
    directory = Path(directory)
    if directory.exists():
        return
    for candidate in (directory.with_name(f".{directory.name}.staging"), directory.with_name(f".{directory.name}.previous")):
        if _complete(candidate):
            candidate.rename(directory)
            return


#: Written by ``reactdiff train METHOD`` in the folder of a multi-stage run: names its final stage.
RUN_RECORD = "run.json"


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint directory at ``path``: the directory itself, or in a stage's run folder its
    ``best`` checkpoint (else ``last``), or in a whole method's run folder (``run.json``) that of
    its final stage. Raises DataError naming what is missing."""
    path = Path(path)
    record = path / RUN_RECORD
    if record.is_file() and not _complete(path):
        data = load_json(record)
        final = data.get("final_stage") if isinstance(data, dict) else None
        if not isinstance(final, str) or not final or "/" in final or final.startswith("."):
            raise DataError(record, "no valid 'final_stage' (the run's last stage folder)")
        path = path / final
    for candidate in (path, path / "best", path / "last"):
        if candidate is not path:
            recover(candidate)
        if _complete(candidate):
            return candidate
    if not path.exists():
        raise DataError(path, "checkpoint not found")
    raise DataError(path, f"not a complete checkpoint ({MANIFEST} missing here and in best/ and last/)")


def _json_file(directory: Path, name: str, manifest: dict) -> Any:
    path = directory / name
    expected = manifest.get("sha256", {}).get(name)
    if expected is not None and path.is_file() and file_sha256(path) != expected:
        raise DataError(path, "contents do not match the SHA-256 in checkpoint.json (corrupted or edited)")
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataError(path, f"expected a JSON object, got {type(data).__name__}")
    return data


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint's manifest and JSON files (see :func:`find_checkpoint` for ``path``)."""
    directory = find_checkpoint(path)
    manifest = load_json(directory / MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(directory / MANIFEST, f"not a {FORMAT} manifest")
    version = manifest.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DataError(directory / MANIFEST, f"'version' must be an integer, got {version!r}")
    if version > VERSION:
        raise DataError(directory / MANIFEST, f"written by a newer reactdiff (format version {version})")
    for key, kind in (("stage", str), ("step", int), ("method", str)):
        if key in manifest and not isinstance(manifest[key], kind):
            raise DataError(directory / MANIFEST, f"'{key}' must be a {kind.__name__}, got {manifest[key]!r}")
    config = _json_file(directory, "config.json", manifest)
    if not isinstance(config.get("model"), dict):
        raise DataError(directory / "config.json", "no 'model' settings")
    training_state = None
    if (directory / "training_state.json").is_file():
        training_state = _json_file(directory, "training_state.json", manifest)
    return Checkpoint(
        directory=directory,
        manifest=manifest,
        model=config["model"],
        train_config=config.get("train", {}),
        streams=_json_file(directory, "streams.json", manifest),
        training_state=training_state,
    )


def save_checkpoint(
    directory: str | Path,
    *,
    method: str,
    method_version: int,
    stage: str,
    step: int,
    model_config: Any,
    train_config: Any,
    streams: dict[str, dict[str, Any]],
    ema_weights: dict[str, torch.Tensor],
    raw_weights: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer | None = None,
    training_state: dict[str, Any] | None = None,
    extra_manifest: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory (replacing any previous one there) and return its path.

    ``optimizer`` and ``training_state`` (step, RNG, best val...) make it resumable;
    ``extra_manifest`` adds facts to ``checkpoint.json`` (e.g. ``latent_stats: true``).
    """
    directory = Path(directory)
    recover(directory)
    staging = directory.with_name(f".{directory.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted save before its manifest: never complete
    staging.mkdir(parents=True)
    save_safetensors(staging / "model.safetensors", ema_weights, metadata={"method": method, "stage": stage, "weights": "ema"})
    save_safetensors(staging / "weights.safetensors", raw_weights, metadata={"method": method, "stage": stage, "weights": "raw"})
    as_dict = lambda config: config if isinstance(config, dict) else to_dict(config)  # noqa: E731
    save_json(staging / "config.json", {"method": method, "stage": stage, "model": as_dict(model_config), "train": as_dict(train_config)})
    save_json(staging / "streams.json", streams)
    files = ["model.safetensors", "weights.safetensors", "config.json", "streams.json"]
    if optimizer is not None:
        tensors, scalars, groups = _split_optimizer_state(optimizer.state_dict())
        save_safetensors(staging / "training_state.safetensors", tensors)
        state = dict(training_state or {}, optimizer_scalars=scalars, optimizer_param_groups=groups)
        save_json(staging / "training_state.json", state)
        files += ["training_state.safetensors", "training_state.json"]
    manifest = {
        "format": FORMAT, "version": VERSION, "method": method, "method_version": method_version,
        "stage": stage, "step": step, "files": files,
        "sha256": {name: file_sha256(staging / name) for name in files},
    }
    save_json(staging / MANIFEST, dict(manifest, **(extra_manifest or {})))
    # Swap directories: the old checkpoint stays complete until the new one is.
    previous = directory.with_name(f".{directory.name}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    if directory.exists():
        directory.rename(previous)
    staging.rename(directory)
    if previous.exists():
        shutil.rmtree(previous)
    return directory


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise DataError(path, "weights file missing from checkpoint")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise DataError(path, f"not a readable safetensors file ({exc})") from exc


def _split_optimizer_state(state_dict: dict[str, Any]):
    """Optimizer state as (tensors for safetensors, JSON scalars, JSON param groups)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, scalars, state_dict["param_groups"]


def _encode_bytes(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.numpy().tobytes()).decode("ascii")


def _decode_bytes(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8).clone()


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states as JSON (so a resumed run draws the same numbers)."""
    numpy_state = np.random.get_state()
    state = {
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
        "numpy": [numpy_state[0], numpy_state[1].tolist(), int(numpy_state[2]), int(numpy_state[3]), float(numpy_state[4])],
        "torch": _encode_bytes(torch.get_rng_state()),
    }
    if torch.cuda.is_available():
        state["cuda"] = [_encode_bytes(s) for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` recorded."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(_decode_bytes(state["torch"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_decode_bytes(s) for s in state["cuda"]])
