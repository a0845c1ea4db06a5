"""K reactions for every speaker of a dataset split, by any method's checkpoint: what
``reactdiff generate``, the demo and the benchmark call.

Rows follow the split's evaluation order (pairs, then mirrored pairs) and carry their speaker and
listener paths, so evaluation can match them to the appropriate reactions.

Clips of any length (REACT 2025/2026: 58 to over 20,000 frames) are generated as the offline
protocol does: cut into consecutive ``chunk_frames`` chunks (750 by default), each generated
independently, the K reactions of every chunk joined in order. No method ever sees more than one
chunk at a time, so memory and attention spans stay those of training whatever the clip's length.
A REACT 2024 clip (750 frames) is one chunk.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from reactdiff.errors import ConfigError
from reactdiff.predictions import Predictions

from reactdiff.chunks import OFFLINE_CHUNK


#: Speakers (chunks) per sampling call. Small batches run faster on a CPU than 16 did (the demo's
#: generation stage: 50.8 s at 16, 36.6 s at 4, in its stage times) and 4 x K samples keep a GPU
#: busy enough. The same on every device: each batch is seeded by its first row, so the batch size
#: is part of what the numbers depend on.
GENERATE_BATCH = 4


def generate_split(model, data: str | Path, split: str = "val", *, num_samples: int = 10, seed: int = 0,
                   batch_size: int = GENERATE_BATCH, chunk_frames: int = OFFLINE_CHUNK, progress: bool = True,
                   layout: str = "auto", **sampling: Any) -> Predictions:
    """Predictions of ``model`` (a :class:`reactdiff.pipeline.ReactionModel`) for ``split`` of the
    prepared dataset at ``data``. ``sampling``: the method's sampling options (None = the
    checkpoint's). ``chunk_frames``: frames generated at once (the offline protocol's chunk)."""
    from tqdm import tqdm

    from reactdiff.chunks import offline_chunks
    from reactdiff.constants import CLIP_FRAMES
    from reactdiff.data.layouts import open_layout
    from reactdiff.store import FeatureStore

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"--batch_size: must be a positive integer, got {batch_size!r}")
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise ConfigError(f"--chunk_frames: must be a positive integer, got {chunk_frames!r}")
    options = model.sampling(**sampling)  # checked before any work
    data = Path(data)
    reader = open_layout(data, layout)
    store = FeatureStore(data / "features")
    model.check_streams({name: info.dim for name, info in store.streams.items()}, source=store.directory)
    if model.fps != reader.fps:
        import sys

        print(f"WARNING: the checkpoint was trained at {model.fps:g} fps and {data} is {reader.fps} fps ({reader.name}): "
              "its reactions unfold at the wrong pace", file=sys.stderr)
    pairs = reader.eval_order(split)
    # REACT 2024 stores 751 frames per clip; its protocol scores the first 750.
    max_frames = CLIP_FRAMES if reader.name == "react2024" else None
    speakers = {pair.speaker: _speaker_streams(store, model, split, pair.speaker, max_frames) for pair in pairs}
    lengths = [len(next(iter(speakers[pair.speaker].values()))) for pair in pairs]
    # Jobs (row, start, stop) in row order; equal-length chunks are batched together, each batch
    # seeded by the position of its first job, so results do not depend on the device or the order.
    jobs = [(row, start, stop) for row, length in enumerate(lengths) for start, stop in offline_chunks(length, chunk_frames)]
    by_length: dict[int, list[int]] = {}
    for index, (_, start, stop) in enumerate(jobs):
        by_length.setdefault(stop - start, []).append(index)
    outputs: dict[int, dict[str, np.ndarray]] = {}
    started = time.monotonic()
    with tqdm(total=len(jobs), unit="chunk" if len(jobs) > len(pairs) else "speaker", desc=f"generate ({model.name})",
              disable=not progress) as bar:
        for indices in by_length.values():
            for first in range(0, len(indices), batch_size):
                batch = indices[first : first + batch_size]
                inputs = {
                    name: np.stack([speakers[pairs[jobs[i][0]].speaker][name][jobs[i][1] : jobs[i][2]] for i in batch])
                    for name in model.stream_names
                }
                result = model.generate_batch(inputs, num_samples=num_samples, seed=seed + batch[0], **options)
                for position, index in enumerate(batch):
                    outputs[index] = {key: result[key][position] for key in ("emotion", "coeffs_3dmm")}
                bar.update(len(batch))
    rows: dict[str, list[np.ndarray]] = {"emotion": [], "coeffs_3dmm": []}
    index = 0
    for row in range(len(pairs)):
        parts = []
        while index < len(jobs) and jobs[index][0] == row:
            parts.append(outputs.pop(index))
            index += 1
        for key in rows:
            rows[key].append(np.concatenate([part[key] for part in parts], axis=1))
    meta = {
        "method": model.name,
        "method_version": model.method.version,
        "checkpoint": model.source,
        "split": split,
        "layout": reader.name,
        "fps": reader.fps,
        "model_fps": model.fps,
        "num_samples": num_samples,
        **options,
        "seed": seed,
        "batch_size": batch_size,
        "chunk_frames": chunk_frames,
        "device": str(model.device),
        "seconds": round(time.monotonic() - started, 2),
    }
    same_length = len(set(lengths)) == 1
    return Predictions(
        emotion=np.stack(rows["emotion"]) if same_length else rows["emotion"],
        coeffs_3dmm=np.stack(rows["coeffs_3dmm"]) if same_length else rows["coeffs_3dmm"],
        speaker_path=[pair.speaker for pair in pairs],
        listener_path=[pair.listener for pair in pairs],
        meta=meta,
    )


def _speaker_streams(store, model, split: str, clip: str, max_frames: int | None) -> dict[str, np.ndarray]:
    """A speaker's streams, memory-mapped, cut to the shortest stream and to ``max_frames``."""
    streams = {name: store.read(name, f"{split}/{clip}") for name in model.stream_names}
    frames = min([len(value) for value in streams.values()] + ([max_frames] if max_frames else []))
    return {name: value[:frames] for name, value in streams.items()}
