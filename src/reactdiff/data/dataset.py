"""PyTorch datasets over a prepared feature store (no decoding in ``__getitem__``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from reactdiff.constants import CLIP_FRAMES
from reactdiff.data.layout import Pair, ReactLayout
from reactdiff.store import FeatureStore
from reactdiff.errors import DataError


class ReactPairDataset(Dataset):
    """(speaker, listener) feature streams of one split.

    - val/test (``train=False``): items follow the fixed evaluation order (pairs, then mirrored
      pairs), full clips of 750 frames (the release stores 751; the last frame is never used).
    - train (``train=True``): both directions of every pair (the mirrored augmentation), and a
      random crop of ``crop_frames`` frames per item when given.

    An item is ``{"speaker": {stream: (T, D)}, "listener": {stream: (T, D)}, "index": i}``.
    """

    def __init__(
        self,
        root: str | Path,
        split: str,
        streams: tuple[str, ...] | list[str],
        train: bool = False,
        crop_frames: int | None = None,
        store: FeatureStore | str | Path | None = None,
    ):
        self.layout = ReactLayout(root)
        self.split = split
        self.streams = tuple(streams)
        self.train = train
        self.crop_frames = crop_frames
        store = store if store is not None else Path(root) / "features"
        self.store = store if isinstance(store, FeatureStore) else FeatureStore(store)
        if not self.streams:
            raise ValueError("at least one stream is needed")
        if crop_frames is not None and not 0 < crop_frames <= CLIP_FRAMES:
            raise ValueError(f"crop_frames must be in 1..{CLIP_FRAMES}, got {crop_frames}")
        for stream in self.streams:
            self.store.info(stream)  # clear error naming the missing stream
        # Training uses both directions as augmentation; evaluation's order is the same list.
        self.pairs: list[Pair] = self.layout.eval_order(split)
        self._check_clips()

    def _check_clips(self) -> None:
        from reactdiff.data.prepare import prepared_layout, store_agrees
        from reactdiff.streams import DATASET_STREAMS

        prepare_command = f"reactdiff prepare {self.layout.root} --streams {' '.join(self.streams)}"
        layout = prepared_layout(self.layout.root, self.store)
        for clip in self.layout.clips(self.split):
            for stream in self.streams:
                if not self.store.has(stream, self._key(clip)):
                    raise DataError(self.store.path(stream, self._key(clip)), f"missing; run `{prepare_command}`")
                # A dataset file edited since `prepare` would otherwise be trained on as it was.
                if stream in DATASET_STREAMS and store_agrees(self.store, layout, self.split, clip, stream) is False:
                    raise DataError(self.store.path(stream, self._key(clip)), f"stale: its dataset file changed since it was prepared; run `{prepare_command}`")

    @classmethod
    def val_split(cls, root: str | Path, streams: tuple[str, ...] | list[str]) -> "ReactPairDataset | None":
        """The VAL split (full clips, evaluation order), or None when the dataset has no val pairs."""
        if not (Path(root) / "val.csv").is_file():
            return None
        dataset = cls(root, "val", streams, train=False)
        return dataset if len(dataset) else None

    def clip(self, clip: str) -> dict[str, torch.Tensor]:
        """Every stream of one clip of this split, the first 750 frames: ``{stream: (750, D)}``."""
        return self._person(clip, 0, CLIP_FRAMES)

    def _key(self, clip: str) -> str:
        return f"{self.split}/{clip}"

    def __len__(self) -> int:
        return len(self.pairs)

    def _person(self, clip: str, start: int, length: int) -> dict[str, torch.Tensor]:
        person = {}
        for stream in self.streams:
            values = self.store.read(stream, self._key(clip))
            if values.shape[0] < CLIP_FRAMES:
                raise DataError(self.store.path(stream, self._key(clip)), f"{values.shape[0]} frames; {CLIP_FRAMES} needed")
            person[stream] = torch.from_numpy(np.array(values[start : start + length], dtype=np.float32))
        return person

    def __getitem__(self, index: int) -> dict:
        pair = self.pairs[index]
        length = self.crop_frames if (self.train and self.crop_frames) else CLIP_FRAMES
        # torch's RNG is seeded per DataLoader worker, so crops are reproducible under a seed.
        start = int(torch.randint(0, CLIP_FRAMES - length + 1, ()).item()) if length < CLIP_FRAMES else 0
        return {
            "speaker": self._person(pair.speaker, start, length),
            "listener": self._person(pair.listener, start, length),
            "index": index,
        }
