"""PyTorch datasets over a prepared feature store (no decoding in ``__getitem__``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from reactdiff.constants import CLIP_FRAMES
from reactdiff.data.base import Pair
from reactdiff.store import FeatureStore
from reactdiff.errors import DataError


class ReactPairDataset(Dataset):
    """(speaker, listener) feature streams of one split, of either REACT layout.

    - val/test (``train=False``): items follow the fixed evaluation order (pairs, then mirrored
      pairs). REACT 2024: full clips of 750 frames (the release stores 751; the last frame is never
      used). Layouts with clips of many lengths (REACT 2025/2026): the first ``item_frames``
      frames of every pair at least that long (default: the split's shortest pair, at most 750),
      so items batch together; generation and evaluation read whole clips, not this dataset.
    - train (``train=True``): both directions of every pair (the mirrored augmentation), and a
      random crop of ``crop_frames`` frames per item when given. Pairs shorter than the crop are
      left out (counted in ``skipped``): zero-padding them would teach the model silent frames.

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
        item_frames: int | None = None,
    ):
        from reactdiff.data.layouts import open_layout

        self.layout = open_layout(root)
        self.split = split
        self.streams = tuple(streams)
        self.train = train
        self.crop_frames = crop_frames
        store = store if store is not None else Path(root) / "features"
        self.store = store if isinstance(store, FeatureStore) else FeatureStore(store)
        if not self.streams:
            raise ValueError("at least one stream is needed")
        if crop_frames is not None and crop_frames < 1:
            raise ValueError(f"crop_frames must be positive, got {crop_frames}")
        for stream in self.streams:
            self.store.info(stream)  # clear error naming the missing stream
        #: REACT 2024's protocol uses the first 750 of the 751 stored frames; other layouts whole clips.
        self.max_frames = CLIP_FRAMES if self.layout.name == "react2024" else None
        if self.max_frames is not None and crop_frames is not None and crop_frames > self.max_frames:
            raise ValueError(f"crop_frames must be in 1..{self.max_frames}, got {crop_frames}")
        # Training uses both directions as augmentation; evaluation's order is the same list.
        pairs: list[Pair] = self.layout.eval_order(split)
        self._check_clips()
        self._frames: dict[str, int] = {}
        lengths = [min(self.frames(pair.speaker), self.frames(pair.listener)) for pair in pairs]
        need = crop_frames if train else (item_frames if self.max_frames is None else None)
        kept = [index for index, length in enumerate(lengths) if not need or length >= need]
        #: Pairs left out because they are shorter than the crop (or val item).
        self.skipped = len(pairs) - len(kept)
        if self.skipped:
            import sys

            print(f"reactdiff: {self.skipped} of {len(pairs)} {split} items are shorter than {need} frames "
                  "and are left out (lower --crop_frames to use them)", file=sys.stderr)
        if pairs and not kept:
            raise DataError(self.store.directory, f"no {split} pair has the {need} frames of a training item; "
                            f"the longest has {max(lengths, default=0)} (lower --crop_frames)")
        self.pairs = [pairs[index] for index in kept]
        self.lengths = [lengths[index] for index in kept]
        #: Frames of a val/test item (see the class docstring).
        if self.max_frames is not None:
            self.item_frames = self.max_frames
        else:
            self.item_frames = item_frames or min(min(self.lengths, default=0), CLIP_FRAMES)

    def frames(self, clip: str) -> int:
        """Frames every stream of ``clip`` has (cut to 750 for REACT 2024)."""
        if clip not in self._frames:
            counts = [int(self.store.read(stream, self._key(clip)).shape[0]) for stream in self.streams]
            frames = min(counts)
            if self.max_frames is not None:
                if frames < self.max_frames:
                    raise DataError(self.store.path(self.streams[counts.index(frames)], self._key(clip)),
                                    f"{frames} frames; {self.max_frames} needed")
                frames = self.max_frames
            self._frames[clip] = frames
        return self._frames[clip]

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
    def val_split(cls, root: str | Path, streams: tuple[str, ...] | list[str],
                  item_frames: int | None = None) -> "ReactPairDataset | None":
        """The VAL split (evaluation order), or None when the dataset has no val pairs.
        ``item_frames`` (clips of many lengths only; a stage passes its training crop, a multiple
        of its model's window): the first that many frames of every val pair at least that long."""
        from reactdiff.data.layouts import open_layout

        if not open_layout(root).has_split("val"):
            return None
        dataset = cls(root, "val", streams, train=False, item_frames=item_frames)
        return dataset if len(dataset) else None

    def clip(self, clip: str) -> dict[str, torch.Tensor]:
        """Every stream of one clip of this split, whole (REACT 2024: the first 750 frames): ``{stream: (T, D)}``."""
        return self.read(clip, 0, self.frames(clip))

    def _key(self, clip: str) -> str:
        return f"{self.split}/{clip}"

    def __len__(self) -> int:
        return len(self.pairs)

    def read(self, clip: str, start: int, length: int) -> dict[str, torch.Tensor]:
        """Frames ``start .. start + length - 1`` of every stream of one clip: ``{stream: (length, D)}``."""
        return {
            stream: torch.from_numpy(np.array(self.store.read(stream, self._key(clip))[start : start + length], dtype=np.float32))
            for stream in self.streams
        }

    def __getitem__(self, index: int) -> dict:
        pair, available = self.pairs[index], self.lengths[index]
        length = self.crop_frames if (self.train and self.crop_frames) else self.item_frames
        # torch's RNG is seeded per DataLoader worker, so crops are reproducible under a seed.
        start = int(torch.randint(0, available - length + 1, ()).item()) if self.train and length < available else 0
        return {
            "speaker": self.read(pair.speaker, start, length),
            "listener": self.read(pair.listener, start, length),
            "index": index,
        }
