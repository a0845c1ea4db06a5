"""Reference baselines of the REACT papers, as predictions in a split's evaluation order.

- ``gt``: the real listener reaction, copied K times (the ceiling of appropriateness, zero diversity
  across the K reactions).
- ``mime``: the speaker's own behaviour copied K times (a listener that mirrors).
- ``random``: independent uniform values per frame, channel and reaction: [0, 1) on the 15 AUs and
  8 expression probabilities, [-1, 1) on valence and arousal (the random baseline of the REACT
  baseline papers; AUs are not binarised). Emotion only: no 3DMM prediction.
- ``mean-seq``: the training listeners' mean sequence (frame by frame), copied for every speaker.
- ``mean-frame``: the training listeners' mean frame, held for the whole clip.

On the synthetic corpus there is also the ``oracle`` (:mod:`reactdiff.synth.oracle`): K reactions
drawn from the corpus's own generative process, the ceiling of every metric on that corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reactdiff.constants import VA_SLICE
from reactdiff.predictions import Predictions

BASELINES = ("gt", "mime", "random", "mean-seq", "mean-frame")
#: Every reference row `evaluate` can add: the trivial baselines and, on synthetic data, the oracle.
REFERENCES = BASELINES + ("oracle",)


def references_for(root: str | Path) -> tuple[str, ...]:
    """The reference rows that exist for the dataset at ``root`` (the oracle only for synthetic corpora)."""
    from reactdiff.synth.oracle import is_synthetic

    return REFERENCES if is_synthetic(root) else BASELINES


@dataclass
class BaselineInputs:
    """Ground truth a baseline draws on, per stream ("emotion", optionally "3dmm"): the split's
    speaker and listener sequences (N, T, D) in evaluation order and the training listeners (M, T, D)."""

    split: str
    root: Path
    speaker_path: list[str]
    listener_path: list[str]
    speaker: dict[str, np.ndarray] = field(default_factory=dict)
    listener: dict[str, np.ndarray] = field(default_factory=dict)
    train_listener: dict[str, np.ndarray] = field(default_factory=dict)


def load_baseline_inputs(root: str | Path, split: str, with_3dmm: bool | None = None) -> BaselineInputs:
    """Read what the baselines need from a REACT-layout dataset (the prepared store when present).

    ``with_3dmm=None`` includes the 3DMM stream when the dataset has it (a prepared ``3dmm`` stream or
    a ``<split>/3D_FV_files`` folder)."""
    from reactdiff.data.groundtruth import load_split_stream
    from reactdiff.store import FeatureStore

    root = Path(root)
    if with_3dmm is None:
        store = FeatureStore(root / "features")
        with_3dmm = "3dmm" in store.streams or all(
            (root / name / "3D_FV_files").is_dir() for name in (split, "train")
        )
    streams = ("emotion", "3dmm") if with_3dmm else ("emotion",)
    inputs = None
    for stream in streams:
        speaker, listener, pairs = load_split_stream(root, split, stream)
        _, train_listener, _ = load_split_stream(root, "train", stream)
        if inputs is None:
            inputs = BaselineInputs(split, root, [p.speaker for p in pairs], [p.listener for p in pairs])
        inputs.speaker[stream], inputs.listener[stream] = speaker, listener
        inputs.train_listener[stream] = train_listener
    return inputs


def baseline_reactions(
    name: str,
    speaker: np.ndarray,
    listener: np.ndarray,
    train_listener: np.ndarray,
    num_samples: int,
    rng: np.random.Generator,
    stream: str = "emotion",
) -> np.ndarray | None:
    """(N, K, T, D) reactions of baseline ``name`` for one stream; None where it has no such stream."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    n, frames, dim = listener.shape

    def repeat(sequences: np.ndarray) -> np.ndarray:
        return np.repeat(sequences[:, None], num_samples, axis=1).astype(np.float32)

    if name == "gt":
        return repeat(listener)
    if name == "mime":
        return repeat(speaker)
    if name == "mean-seq":
        return repeat(np.broadcast_to(train_listener[:, :frames].mean(axis=0), (n, frames, dim)))
    if name == "mean-frame":
        return repeat(np.broadcast_to(train_listener.mean(axis=(0, 1)), (n, frames, dim)))
    if stream != "emotion":
        return None
    reactions = rng.random((n, num_samples, frames, dim), dtype=np.float32)
    # Valence and arousal live in [-1, 1]; AUs and expression probabilities in [0, 1).
    reactions[..., VA_SLICE] = 2.0 * reactions[..., VA_SLICE] - 1.0
    return reactions


def ragged_baseline_reactions(name: str, speaker: list[np.ndarray], listener: list[np.ndarray],
                              train_listener: list[np.ndarray], num_samples: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Emotion reactions (K, T_n, 25) of baseline ``name`` for rows of different lengths (REACT
    2025/2026). ``mean-seq`` is the frame-wise mean of the training listeners long enough to reach
    each frame (past the longest one, its last mean frame is held)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    longest = max(len(clip) for clip in listener)
    if name == "mean-seq":
        horizon = min(longest, max(len(clip) for clip in train_listener))
        total, count = np.zeros((horizon, listener[0].shape[1])), np.zeros((horizon, 1))
        for clip in train_listener:
            total[: len(clip)] += clip[:horizon]
            count[: len(clip)] += 1
        mean = total / count
        sequence = np.concatenate([mean, np.repeat(mean[-1:], longest - horizon, axis=0)]).astype(np.float32)
    if name == "mean-frame":
        total = sum(clip.sum(axis=0, dtype=np.float64) for clip in train_listener)
        mean_frame = (total / sum(len(clip) for clip in train_listener)).astype(np.float32)
    rows = []
    for spk, lst in zip(speaker, listener):
        frames = len(lst)
        if name == "random":
            row = rng.random((num_samples, frames, lst.shape[1]), dtype=np.float32)
            row[..., VA_SLICE] = 2.0 * row[..., VA_SLICE] - 1.0
            rows.append(row)
            continue
        one = {"gt": lst, "mime": spk[:frames]}.get(name)
        if name == "mean-frame":
            one = np.broadcast_to(mean_frame, lst.shape)
        elif name == "mean-seq":
            one = sequence[:frames]
        rows.append(np.repeat(np.asarray(one, dtype=np.float32)[None], num_samples, axis=0))
    return rows


def make_baseline(name: str, inputs: BaselineInputs, num_samples: int = 10, seed: int = 0) -> Predictions:
    """Baseline ``name`` as a Predictions object in the inputs' evaluation order."""
    if name == "oracle":
        from reactdiff.synth.oracle import oracle_predictions

        oracle = oracle_predictions(inputs.root, inputs.split, num_samples, seed)
        if "3dmm" not in inputs.listener:
            oracle.coeffs_3dmm = None
        return oracle
    rng = np.random.default_rng(seed)
    reactions = {
        stream: baseline_reactions(
            name, inputs.speaker[stream], inputs.listener[stream], inputs.train_listener[stream], num_samples, rng, stream
        )
        for stream in inputs.listener
    }
    return Predictions(
        emotion=reactions["emotion"],
        speaker_path=list(inputs.speaker_path),
        listener_path=list(inputs.listener_path),
        coeffs_3dmm=reactions.get("3dmm"),
        meta={"baseline": name, "split": inputs.split, "num_samples": num_samples, "seed": seed},
    )
