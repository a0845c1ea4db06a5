"""REGNN's training data: each speaker crop with the emotion of every appropriate listener reaction
at the same frames.

The appropriateness matrix of a split (``ReactLayout.neighbours``: rows = speakers, columns =
reactions, both in the evaluation order: pairs, then mirrored pairs) says which real listener
reactions are appropriate to each speaker; the true listener is always one of them. REGNN trains
on them all: up to ``max_neighbours`` per item, drawn at random when there are more (as the
original's ``random.sample(neighbours, 10)``), at the speaker crop's frame offset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from reactdiff.constants import EMOTION_DIM
from reactdiff.data.dataset import ReactPairDataset
from reactdiff.errors import DataError

#: Streams of the true listener every item carries (the emotion -> 3DMM regressor's data).
LISTENER_STREAMS = ("emotion", "3dmm")


class AppropriateReactions(Dataset):
    """Items ``{"speaker": {stream: (T, D)}, "listener": {"emotion": (T, 25), "3dmm": (T, 58),
    "neighbours": (A, T, 25), "neighbour_mask": (A,)}, "index": i}`` over the evaluation order of
    ``split``.

    ``train``: a random crop of ``crop_frames`` frames starting on the ``stride`` grid (the
    original trains on the 50-frame windows at stride 25), and a random draw of the appropriate
    reactions; otherwise whole clips and the first ``max_neighbours`` appropriate reactions.
    ``A`` = the most appropriate reactions any speaker of the split has, at most ``max_neighbours``.
    """

    def __init__(self, root: str | Path, split: str, streams: tuple[str, ...], crop_frames: int, train: bool,
                 max_neighbours: int, stride: int):
        self.pairs = ReactPairDataset(root, split, tuple(dict.fromkeys(streams + LISTENER_STREAMS)), train=False)
        self.split = split
        self.streams = tuple(streams)
        self.train = train
        # REACT 2024: whole 750-frame clips for validation; clips of many lengths (REACT 2025/2026):
        # the first crop of every clip that long, so val items batch together.
        self.length = crop_frames if train or self.pairs.max_frames is None else self.pairs.item_frames
        self.stride = stride
        matrix = self.matrix(self.pairs.layout, split)
        self.rows = [np.flatnonzero(row) for row in matrix]
        self.width = min(max_neighbours, max(len(row) for row in self.rows))
        #: Items (eval-order indices) long enough for an item of ``length`` frames.
        self.items = [index for index, frames in enumerate(self.pairs.lengths) if frames >= self.length]
        self._clips: dict[str, dict[str, torch.Tensor]] = {}

    @staticmethod
    def matrix(layout, split: str) -> np.ndarray:
        """The split's appropriateness matrix, or a DataError saying REGNN cannot train without it."""
        try:
            return layout.neighbours(split)
        except DataError as exc:
            raise DataError(
                exc.path,
                f"{exc.problem}. REGNN trains on every appropriate listener reaction of each {split} speaker and this "
                f"dataset has no appropriateness matrix for {split} (REACT 2024's release ships none for train: cut one "
                f"from the challenge's global matrix, mirrored order, as its tool/matrix_split.py does)",
            ) from exc

    def __len__(self) -> int:
        return len(self.items)

    def clip(self, clip: str) -> dict[str, torch.Tensor]:
        """Every stream of one clip of the split (750 frames), read once and kept."""
        # Kept (0.33 MB with emotion, 3dmm and mfcc: 1 GB for REACT
        # 2024's train split): an item reads up to 2 + max_neighbours clips, and opening the
        # feature files, not the model, would otherwise take most of a small model's step.
        if clip not in self._clips:
            self._clips[clip] = self.pairs.clip(clip)
        return self._clips[clip]

    def __getitem__(self, item: int) -> dict:
        index = self.items[item]
        pair, available = self.pairs.pairs[index], self.pairs.lengths[index]
        start = 0
        if self.train and self.length < available:
            start = self.stride * int(torch.randint(0, (available - self.length) // self.stride + 1, ()).item())
        frames = slice(start, start + self.length)
        speaker = self.clip(pair.speaker)
        listener = self.clip(pair.listener)
        columns = self.rows[index]
        # Appropriate reactions must cover the item's frames (clips of other lengths may not).
        columns = columns[[self.pairs.lengths[int(column)] >= start + self.length for column in columns]]
        if self.train and len(columns) > self.width:
            columns = columns[torch.randperm(len(columns))[: self.width].numpy()]
        columns = columns[: self.width]
        neighbours = torch.zeros(self.width, self.length, EMOTION_DIM)
        mask = torch.zeros(self.width, dtype=torch.bool)
        for slot, column in enumerate(columns):
            neighbours[slot] = self.clip(self.pairs.pairs[int(column)].listener)["emotion"][frames]
            mask[slot] = True
        return {
            "speaker": {name: speaker[name][frames] for name in self.streams},
            "listener": {
                **{name: listener[name][frames] for name in LISTENER_STREAMS},
                "neighbours": neighbours,
                "neighbour_mask": mask,
            },
            "index": index,
        }
