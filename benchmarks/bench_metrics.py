"""Benchmark of the REACT evaluation suite: seconds per metric and peak memory at several sizes.

    python benchmarks/bench_metrics.py                      # N = 200 and the REACT 2024 test size 1614
    python benchmarks/bench_metrics.py --sizes 100 400 --device cuda

Inputs are synthetic but shaped like REACT emotion: binary AUs (some never firing), smooth valence
and arousal in [-1, 1], expression probabilities from a softmax, K = 10 reactions of T = 750 frames,
and a random appropriateness matrix with about 10 appropriate reactions per row. Generated reactions
are independent draws from the same process (a plausible but unrelated model output), so DTW early
abandoning gets no help from predictions that copy the ground truth.

It also times official-style loops on a small sample (one DTW pair in pure Python/numpy, FRSyn with
np.corrcoef per lag and channel; dtaidistance's C DTW when installed) and prints the estimated time
those would take at each size, labelled as estimates.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import numpy as np


def smooth(rng: np.random.Generator, shape: tuple[int, ...], width: int = 12) -> np.ndarray:
    """Low-pass noise along axis -2 (moving average of white noise), unit-ish scale."""
    noise = rng.normal(size=shape[:-2] + (shape[-2] + width, shape[-1])).astype(np.float32)
    cumulative = np.cumsum(noise, axis=-2)
    return ((cumulative[..., width:, :] - cumulative[..., :-width, :]) / np.sqrt(width)).astype(np.float32)


def emotion_like(rng: np.random.Generator, leading: tuple[int, ...], frames: int) -> np.ndarray:
    """(..., T, 25) float32 sequences with the value ranges of the REACT emotion vector."""
    base = smooth(rng, leading + (frames, 25))
    values = np.empty_like(base)
    # AUs: occurrences of a smooth drive over a per-AU threshold; high thresholds never fire.
    thresholds = rng.uniform(0.5, 4.0, size=leading + (1, 15)).astype(np.float32)
    values[..., :15] = base[..., :15] > thresholds
    values[..., 15:17] = np.tanh(0.5 * base[..., 15:17])
    logits = 1.5 * base[..., 17:]
    logits = np.exp(logits - logits.max(axis=-1, keepdims=True))
    values[..., 17:] = logits / logits.sum(axis=-1, keepdims=True)
    return values


def make_inputs(n: int, k: int, frames: int, appropriate: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    listener = emotion_like(rng, (n,), frames)
    speaker = emotion_like(rng, (n,), frames)
    # Generated row by row so that the peak memory measured below is the metrics', not the generator's.
    predictions = np.empty((n, k, frames, 25), dtype=np.float32)
    for row in range(n):
        predictions[row] = emotion_like(rng, (k,), frames)
    neighbours = (rng.random((n, n)) < (appropriate - 1) / max(n - 1, 1)).astype(np.int8)
    np.fill_diagonal(neighbours, 1)
    return predictions, listener, speaker, neighbours


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def official_style_tlcc(reaction: np.ndarray, speaker: np.ndarray) -> int:
    """The published per-reaction TLCC loop: np.corrcoef per lag and channel."""
    correlations = []
    for lag in range(-49, 50):
        if lag > 0:
            x, y = reaction[lag:], speaker[:-lag]
        elif lag < 0:
            x, y = reaction[:lag], speaker[-lag:]
        else:
            x, y = reaction, speaker
        with np.errstate(divide="ignore", invalid="ignore"):
            correlations.append(np.mean([np.corrcoef(x[:, c], y[:, c])[0, 1] for c in range(x.shape[1])]))
    return abs(49 - int(np.argmax(correlations)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1614], help="numbers of speaker rows N")
    parser.add_argument("--reactions", type=int, default=10, help="K")
    parser.add_argument("--frames", type=int, default=750, help="T")
    parser.add_argument("--appropriate", type=int, default=10, help="appropriate reactions per row (about)")
    parser.add_argument("--device", default="cpu", help="torch device of the vectorised metrics")
    parser.add_argument("--skip-official", action="store_true", help="do not time the official-style loops")
    args = parser.parse_args()

    import numba
    import torch

    from reactdiff.metrics import best_ccc, frdiv, frdvs, frechet_distances, frvar, min_dtw, tlcc_offsets
    from reactdiff.metrics.dtw import FRDIST_GROUPS, _grouped_dtw, _kernel_groups, definition_dtw

    load = os.getloadavg()
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(
        f"hardware: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba threads "
        f"{numba.get_num_threads()}, torch threads {torch.get_num_threads()}, device {args.device} ({device_name}); "
        f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, torch {torch.__version__}, numba {numba.__version__}"
    )
    # Compile the DTW kernel once, outside the timings.
    warm = make_inputs(2, 2, 20, 2)
    min_dtw(warm[0], warm[1], warm[3])

    names = (
        "FRCorr official", "FRCorr corrected", "FRDist", "FRDiv", "FRVar", "FRDvs",
        "FRSyn official", "FRSyn corrected", "FD-emotion",
    )
    print()
    print("| N | appropriate entries (sum of M) | " + " | ".join(names) + " | total s | peak RSS GiB |")
    print("|" + "---|" * (len(names) + 4), flush=True)
    rows = []
    for n in sorted(args.sizes):
        predictions, listener, speaker, neighbours = make_inputs(n, args.reactions, args.frames, args.appropriate, seed=n)
        timings = {}
        timings["FRCorr official"], _ = timed(best_ccc, predictions, listener, neighbours, "official", args.device)
        timings["FRCorr corrected"], _ = timed(best_ccc, predictions, listener, neighbours, "corrected", args.device)
        timings["FRDist"], _ = timed(min_dtw, predictions, listener, neighbours)
        timings["FRDiv"], _ = timed(frdiv, predictions, args.device)
        timings["FRVar"], _ = timed(frvar, predictions, args.device)
        timings["FRDvs"], _ = timed(frdvs, predictions, args.device)
        timings["FRSyn official"], _ = timed(tlcc_offsets, predictions, speaker, "official", args.device)
        timings["FRSyn corrected"], _ = timed(tlcc_offsets, predictions, speaker, "corrected", args.device)
        timings["FD-emotion"], _ = timed(frechet_distances, predictions, listener, "emotion", args.device)
        total, rss = sum(timings.values()), peak_rss_gib()
        rows.append((n, int(neighbours.sum()), timings, total, rss))
        # One row as soon as its size is done: a long run still reports the sizes it finished.
        cells = " | ".join(f"{timings[name]:.2f}" for name in names)
        print(f"| {n} | {int(neighbours.sum())} | {cells} | {total:.1f} | {rss:.2f} |", flush=True)

    if args.skip_official:
        return 0
    # Official-style loops on a small sample, extrapolated per pair / per reaction.
    predictions, listener, speaker, _ = make_inputs(2, 2, args.frames, 2, seed=1)
    query, reference = predictions[0, 0], listener[1]
    python_pair, python_value = timed(
        lambda: sum(w * definition_dtw(query[:, a:b], reference[:, a:b]) for a, b, w in FRDIST_GROUPS)
    )
    # Our kernel on one pair, one thread: the like-for-like comparison with a single-threaded library DTW.
    bounds, weights = _kernel_groups(FRDIST_GROUPS)
    single = (np.ascontiguousarray(query), reference.T.astype(np.float64, order="C"), bounds, weights, np.inf)
    ours_value = _grouped_dtw(*single)
    ours_pair = min(timed(_grouped_dtw, *single)[0] for _ in range(5))
    reaction_count = 4
    tlcc_seconds, _ = timed(lambda: [official_style_tlcc(predictions[0, i % 2], speaker[0]) for i in range(reaction_count)])
    print()
    print("| official-style loop | seconds per item | item | check |")
    print("|---|---|---|---|")
    print(f"| DTW pair, pure Python/numpy (3 groups) | {python_pair:.2f} | pair | same value as ours: {abs(python_value - ours_value) < 1e-9} |")
    print(f"| DTW pair, our kernel, 1 thread (best of 5) | {ours_pair:.4f} | pair | |")
    try:
        from dtaidistance import dtw_ndim

        def dtaidistance_pair():
            return sum(
                w * dtw_ndim.distance_fast(
                    np.ascontiguousarray(query[:, a:b], dtype=np.float64),
                    np.ascontiguousarray(reference[:, a:b], dtype=np.float64),
                )
                for a, b, w in FRDIST_GROUPS
            )

        library_value = dtaidistance_pair()
        library_pair = min(timed(dtaidistance_pair)[0] for _ in range(5))
        same = abs(library_value - ours_value) <= 1e-9 * ours_value
        print(f"| DTW pair, dtaidistance C (3 groups) | {library_pair:.4f} | pair | equal to ours (rel 1e-9): {same} |")
    except ImportError:
        library_pair = None
    print(f"| FRSyn, np.corrcoef per lag and channel | {tlcc_seconds / reaction_count:.3f} | reaction | |")
    print()
    print("| N | ours total s | estimated official-style FRDist s (pure Python, 1 core) | estimated dtaidistance FRDist s (1 core, no abandoning) | estimated official-style FRSyn s (all K) |")
    print("|---|---|---|---|---|")
    for n, pairs, timings, total, _ in rows:
        dtw_pairs = pairs * args.reactions
        library = f"{dtw_pairs * library_pair:.0f}" if library_pair else "n/a"
        print(
            f"| {n} | {total:.1f} | {dtw_pairs * python_pair:.0f} | {library} | "
            f"{n * args.reactions * tlcc_seconds / reaction_count:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
