"""Ground truth of a split in evaluation order, as metrics and baselines need it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.constants import CLIP_FRAMES
from reactdiff.data.layout import Pair, ReactLayout
from reactdiff.data.prepare import prepared_layout
from reactdiff.store import FeatureStore


def load_split_stream(root: str | Path, split: str, stream: str = "emotion", store: FeatureStore | None = None):
    """``(speaker (N, 750, D), listener (N, 750, D), pairs)`` for the evaluation order of ``split``.

    Reads the prepared store when it holds the stream, computed from the dataset files as they are
    now (fast), else the dataset files (``emotion`` and ``3dmm`` only): a store left stale by an
    edit of the data is never read in their place."""
    store = store or FeatureStore(Path(root) / "features")
    layout = prepared_layout(root, store)
    pairs = layout.eval_order(split)
    clips = layout.clips(split)
    use_store = stream in store.streams and all(_up_to_date(store, layout, split, clip, stream) for clip in clips)
    if use_store:
        load = lambda clip: np.asarray(store.read(stream, f"{split}/{clip}")[:CLIP_FRAMES])  # noqa: E731
    elif stream == "emotion":
        load = lambda clip: layout.load_emotion(split, clip)[:CLIP_FRAMES]  # noqa: E731
    elif stream == "3dmm":
        load = lambda clip: layout.load_3dmm(split, clip)[:CLIP_FRAMES]  # noqa: E731
    else:
        from reactdiff.errors import DataError

        raise DataError(store.directory, f"stream '{stream}' is not prepared for split '{split}'; run `reactdiff prepare`")
    by_clip = {clip: load(clip) for clip in clips}
    speaker = np.stack([by_clip[pair.speaker] for pair in pairs]).astype(np.float32)
    listener = np.stack([by_clip[pair.listener] for pair in pairs]).astype(np.float32)
    return speaker, listener, pairs


def load_split_emotion(root: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, list[Pair]]:
    """Speaker and listener emotion (N, 750, 25) in evaluation order, with the pairs."""
    return load_split_stream(root, split, "emotion")


def _up_to_date(store: FeatureStore, layout: ReactLayout, split: str, clip: str, stream: str) -> bool:
    from reactdiff.data.prepare import store_agrees
    from reactdiff.streams import DATASET_STREAMS

    if stream not in DATASET_STREAMS:
        return store.has(stream, f"{split}/{clip}")  # no dataset file to fall back on
    return store_agrees(store, layout, split, clip, stream) is True
