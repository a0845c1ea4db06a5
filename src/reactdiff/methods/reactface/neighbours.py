"""Training items with every appropriate listener reaction of the speaker (ReactFace's loss is the
minimum over them).

The appropriateness matrix of a split (``ReactLayout.neighbours``: rows = speakers, columns =
listener reactions, both in evaluation order, diagonal = the true listener) says which reactions
are appropriate. REACT 2024's real release has none for the train split: training then stops
with a message saying what is missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from reactdiff.data.dataset import ReactPairDataset
from reactdiff.errors import DataError

#: Listener streams the neighbour loss compares against (store name -> item key).
TARGETS = {"3dmm": "neighbour_3dmm", "emotion": "neighbour_emotion"}


class AppropriateReactions(Dataset):
    """Items ``{"speaker": {stream: (T, D)}, "listener": {"neighbour_3dmm": (N, T, 58),
    "neighbour_emotion": (N, T, 25), "neighbour_mask": (N,)}, "index": i}``: the speaker's crop
    and the same frames of up to N appropriate listener reactions (mask 1 where a slot holds
    one; the true listener always does).

    train: both directions of every pair, a random ``crop_frames`` crop per item and, when a
    speaker has more than N appropriate reactions, a random N of them (the true one kept).
    Otherwise (validation): the first ``crop_frames`` frames and the first N reactions.
    """

    def __init__(self, root: str | Path, split: str, streams: tuple[str, ...], crop_frames: int, train: bool,
                 max_neighbours: int, require_matrix: bool = True):
        self.pairs = ReactPairDataset(root, split, tuple(dict.fromkeys(streams + tuple(TARGETS))), train=False)
        self.split, self.streams, self.crop_frames, self.train = split, tuple(streams), crop_frames, train
        try:
            matrix = self.pairs.layout.neighbours(split)
        except DataError as exc:
            if require_matrix:
                raise DataError(
                    exc.path,
                    f"{exc.problem}: ReactFace trains against every appropriate listener reaction of each {split} speaker "
                    f"and needs the {split} split's appropriateness matrix (REACT 2024's release has none for train; "
                    "`reactdiff synth` writes one)",
                ) from exc
            matrix = np.eye(len(self.pairs), dtype=np.int8)  # only the true listener
        self.rows = [np.flatnonzero(row) for row in matrix]
        self.width = min(max_neighbours, max(len(row) for row in self.rows))
        #: Items (eval-order indices) with at least ``crop_frames`` frames (all of REACT 2024's).
        self.items = [index for index, frames in enumerate(self.pairs.lengths) if frames >= crop_frames]

    def __len__(self) -> int:
        return len(self.items)

    def _read(self, clip: str, stream: str, start: int) -> torch.Tensor:
        values = self.pairs.store.read(stream, f"{self.split}/{clip}")
        return torch.from_numpy(np.array(values[start : start + self.crop_frames], dtype=np.float32))

    def _chosen(self, index: int, stop: int) -> np.ndarray:
        row = self.rows[index]
        # Appropriate reactions must cover the item's frames (clips of other lengths may not).
        row = row[[self.pairs.lengths[int(j)] >= stop for j in row]]
        if len(row) <= self.width:
            return row
        others = row[row != index]
        if self.train:
            others = others[torch.randperm(len(others))[: self.width - 1].numpy()]
        return np.concatenate([[index], np.sort(others[: self.width - 1])])

    def __getitem__(self, item: int) -> dict:
        index = self.items[item]
        pair, available = self.pairs.pairs[index], self.pairs.lengths[index]
        start = int(torch.randint(0, available - self.crop_frames + 1, ()).item()) if self.train else 0
        speaker = {stream: self._read(pair.speaker, stream, start) for stream in dict.fromkeys(self.streams + ("3dmm",))}
        chosen = self._chosen(index, start + self.crop_frames)
        listener = {}
        for stream, key in TARGETS.items():
            reactions = torch.stack([self._read(self.pairs.pairs[j].listener, stream, start) for j in chosen])
            padding = reactions.new_zeros(self.width - len(chosen), *reactions.shape[1:])
            listener[key] = torch.cat([reactions, padding])
        listener["neighbour_mask"] = (torch.arange(self.width) < len(chosen)).float()
        return {"speaker": speaker, "listener": listener, "index": index}
