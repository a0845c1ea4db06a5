"""Where a method's FRDist comes from on a synthetic corpus: forward rows (the listener generated from
the speaker) against mirrored rows (the talker generated from the listener), each channel group on its
own, and the valence/arousal level of the reactions against the appropriate ones.

    python benchmarks/frdist_by_direction.py --data reactdiff-demo/data --predictions reactdiff-demo/predictions_val.npz \
        --reconstruct reactdiff-demo/runs/diffusion

Prints, for every predictions file and for `mime` and the oracle (which needs the synthetic corpus):
- FRDist per row (sum over the K reactions of the weighted DTW to the closest appropriate reaction),
  averaged over forward rows and over mirrored rows, in total and for each channel group alone
  (AUs / 15, valence-arousal, expressions / 8; each group's minimum taken on its own);
- valence/arousal levels: each reaction's clip-mean VA against the closest clip-mean VA among the
  row's appropriate reactions (level error), the spread of the K reactions' levels, and the same
  spread among the real appropriate reactions;
- how much of a row's per-window VA variance the reaction identity explains (1: every reaction
  keeps its own level all clip long; real listeners of one speaker keep theirs, talkers do not);
- FRDiv by direction, split into each channel group's share (the shares add up to FRDiv), and how
  often the generated AUs occur against the real reactions' rate.
"""

from __future__ import annotations

import argparse

import numpy as np

from reactdiff.data.layouts import open_layout
from reactdiff.metrics import frdiv
from reactdiff.metrics.dtw import FRDIST_GROUPS, min_grouped_dtw
from reactdiff.predictions import Predictions
from reactdiff.trivial import load_baseline_inputs, make_baseline

VA = slice(15, 17)
WINDOW = 50


def per_row_frdist(emotion: np.ndarray, references: np.ndarray, neighbours: np.ndarray, groups=FRDIST_GROUPS) -> np.ndarray:
    return min_grouped_dtw(emotion, references, neighbours, groups).sum(axis=1)


def level_facts(emotion, references: np.ndarray, neighbours: np.ndarray, rows) -> tuple[float, float, float]:
    """``emotion[row]``: (K, T, 25) reactions of each row (an array or a dict by row)."""
    errors, spreads, persistence = [], [], []
    for row in rows:
        appropriate = references[np.flatnonzero(neighbours[row]), :, VA].mean(axis=1)  # (M, 2)
        levels = emotion[row][:, :, VA].mean(axis=1)  # (K, 2)
        errors.append(np.sqrt(((levels[:, None] - appropriate[None]) ** 2).sum(-1)).min(axis=1).mean())
        spreads.append(levels.std(axis=0).mean())
        windows = emotion[row][:, : emotion[row].shape[1] // WINDOW * WINDOW, VA]
        windows = windows.reshape(len(windows), -1, WINDOW, 2).mean(axis=2)  # (K, W, 2)
        windows = windows - windows.mean(axis=(0, 1), keepdims=True)
        persistence.append((windows.mean(axis=1) ** 2).mean() / max((windows**2).mean(), 1e-12))
    return float(np.mean(errors)), float(np.mean(spreads)), float(np.mean(persistence))


def diversity_shares(emotion: np.ndarray) -> list[float]:
    """FRDiv of (N, K, T, 25) reactions and each channel group's share of it (FRDiv divides by all
    25 channels, so the shares add up to the total)."""
    total = frdiv(emotion)
    return [total] + [frdiv(emotion[..., low:high]) * (high - low) / emotion.shape[-1] for low, high, _ in FRDIST_GROUPS]


def reconstruction(checkpoint: str, data: str, split: str, frames: int, samples: int = 10) -> np.ndarray:
    """The autoencoder's encode-decode of every row's real reaction, as K identical reactions: how
    far stage 1 alone is from the data (the ceiling on what stage 2 can reach through it)."""
    import torch

    from reactdiff.methods.outputs import postprocess_emotion
    from reactdiff.pipeline import ReactionModel
    from reactdiff.store import FeatureStore

    model = ReactionModel.from_checkpoint(checkpoint).model
    store = FeatureStore(f"{data}/features")
    rows = []
    with torch.no_grad():
        for pair in open_layout(data).eval_order(split):
            streams = {name: torch.from_numpy(np.array(store.read(name, f"{split}/{pair.listener}")[:frames], dtype=np.float32))[None]
                       for name in model.streams}
            emotion = postprocess_emotion(model.decode(model.encode(streams))["emotion"])[0].numpy()
            rows.append(np.repeat(emotion[None], samples, axis=0))
    return np.stack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a prepared synthetic corpus (REACT 2024 layout)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--predictions", nargs="*", default=[], help="predictions .npz files of that split")
    parser.add_argument("--reconstruct", help="a ReactDiff checkpoint: add its stage-1 reconstruction of the real reactions (K copies)")
    args = parser.parse_args()

    inputs = load_baseline_inputs(args.data, args.split)
    references = inputs.listener["emotion"]
    neighbours = open_layout(args.data).neighbours(args.split)
    frames = references.shape[1] - references.shape[1] % WINDOW
    references = references[:, :frames]
    runs = {name: make_baseline(name, inputs, 10, 0).emotion[:, :, :frames] for name in ("mime", "oracle")}
    runs.update({path: Predictions.load(path).emotion[:, :, :frames] for path in args.predictions})
    if args.reconstruct:
        runs["stage-1 reconstruction"] = reconstruction(args.reconstruct, args.data, args.split, frames)
    half = len(references) // 2
    forward, mirrored = range(half), range(half, 2 * half)

    print(f"{args.data} ({args.split}): {half} forward and {half} mirrored rows; FRDist per row = sum over K reactions\n")
    print("| run | FRDist forward | FRDist mirrored | AUs fwd / mir | VA fwd / mir | expressions fwd / mir |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, emotion in runs.items():
        total = per_row_frdist(emotion, references, neighbours)
        groups = [per_row_frdist(emotion, references, neighbours, [group]) for group in FRDIST_GROUPS]
        cells = " | ".join(f"{g[:half].mean():.2f} / {g[half:].mean():.2f}" for g in groups)
        print(f"| {name} | {total[:half].mean():.2f} | {total[half:].mean():.2f} | {cells} |")

    print("\n| run | VA level error fwd / mir | level spread of the K fwd / mir | per-window VA variance explained by the reaction fwd / mir |")
    print("|---|---:|---:|---:|")
    for name, emotion in runs.items():
        facts = [level_facts(emotion, references, neighbours, rows) for rows in (forward, mirrored)]
        print(f"| {name} | {facts[0][0]:.3f} / {facts[1][0]:.3f} | {facts[0][1]:.3f} / {facts[1][1]:.3f} | {facts[0][2]:.3f} / {facts[1][2]:.3f} |")
    # The real appropriate reactions of each row, as if they were its K reactions.
    real = {row: references[np.flatnonzero(neighbours[row])] for row in range(2 * half)}
    facts = [level_facts(real, references, neighbours, rows) for rows in (forward, mirrored)]
    print(f"| real appropriate reactions | - | {facts[0][1]:.3f} / {facts[1][1]:.3f} | {facts[0][2]:.3f} / {facts[1][2]:.3f} |")

    print("\n| run | FRDiv fwd / mir | AU share fwd / mir | VA share fwd / mir | expression share fwd / mir | AU rate fwd / mir |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, emotion in runs.items():
        if emotion.shape[1] < 2:
            continue
        shares = [diversity_shares(emotion[rows]) for rows in (slice(0, half), slice(half, 2 * half))]
        cells = " | ".join(f"{shares[0][g]:.4f} / {shares[1][g]:.4f}" for g in range(4))
        print(f"| {name} | {cells} | {emotion[:half, ..., :15].mean():.3f} / {emotion[half:, ..., :15].mean():.3f} |")
    print(f"| real reactions (AU rate) | | | | | {references[:half, :, :15].mean():.3f} / {references[half:, :, :15].mean():.3f} |")


if __name__ == "__main__":
    main()
