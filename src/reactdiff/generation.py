"""K reactions for every speaker of a dataset split, by any method's checkpoint: what
``reactdiff generate``, the demo and the benchmark call.

Rows follow the split's evaluation order (pairs, then mirrored pairs) and carry their speaker and
listener paths, so evaluation can match them to the appropriateness matrix.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from reactdiff.errors import ConfigError
from reactdiff.predictions import Predictions


def generate_split(model, data: str | Path, split: str = "val", *, num_samples: int = 10, seed: int = 0,
                   batch_size: int = 16, progress: bool = True, **sampling: Any) -> Predictions:
    """Predictions of ``model`` (a :class:`reactdiff.pipeline.ReactionModel`) for ``split`` of the
    prepared dataset at ``data``. ``sampling``: the method's sampling options (None = the
    checkpoint's)."""
    from tqdm import tqdm

    from reactdiff.constants import CLIP_FRAMES
    from reactdiff.data.layout import ReactLayout
    from reactdiff.store import FeatureStore

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"--batch_size: must be a positive integer, got {batch_size!r}")
    options = model.sampling(**sampling)  # checked before any work
    data = Path(data)
    layout = ReactLayout(data)
    store = FeatureStore(data / "features")
    model.check_streams({name: info.dim for name, info in store.streams.items()}, source=store.directory)
    pairs = layout.eval_order(split)

    emotion, coeffs = [], []
    started = time.monotonic()
    with tqdm(total=len(pairs), unit="speaker", desc=f"generate ({model.name})", disable=not progress) as bar:
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            speakers = {
                name: np.stack([store.read(name, f"{split}/{pair.speaker}")[:CLIP_FRAMES] for pair in chunk])
                for name in model.stream_names
            }
            # One seed per chunk, derived from the seed, so results do not depend on the device order.
            result = model.generate_batch(speakers, num_samples=num_samples, seed=seed + start, **options)
            emotion.append(result["emotion"])
            coeffs.append(result["coeffs_3dmm"])
            bar.update(len(chunk))
    meta = {
        "method": model.name,
        "method_version": model.method.version,
        "checkpoint": model.source,
        "split": split,
        "num_samples": num_samples,
        **options,
        "seed": seed,
        "batch_size": batch_size,
        "device": str(model.device),
        "seconds": round(time.monotonic() - started, 2),
    }
    return Predictions(
        emotion=np.concatenate(emotion),
        coeffs_3dmm=np.concatenate(coeffs),
        speaker_path=[pair.speaker for pair in pairs],
        listener_path=[pair.listener for pair in pairs],
        meta=meta,
    )
