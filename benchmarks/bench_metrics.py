"""Benchmark of the REACT evaluation suite: seconds per metric, peak memory, and the official code's cost.

    python benchmarks/bench_metrics.py                                  # comparison at N = 60, then N = 200 and 1614
    python benchmarks/bench_metrics.py --sizes 1614 --skip-official     # the suite at the REACT 2024 test size
    python benchmarks/bench_metrics.py --sizes 100 400 --device cuda
    python benchmarks/bench_metrics.py --protocol react2025             # REACT 2025: 60 items of 300..3000 frames
    python benchmarks/bench_metrics.py --protocol react2025 --react-items 8 --react-frames 300 1000

Inputs are synthetic but shaped like REACT emotion: binary AUs (some never firing), smooth valence
and arousal in [-1, 1], expression probabilities from a softmax, K = 10 reactions of T = 750 frames,
and a random appropriateness matrix with about 10 appropriate reactions per row. Generated reactions
are independent draws from the same process (a plausible but unrelated model output), so DTW early
abandoning gets no help from predictions that copy the ground truth.

The comparison with the official evaluation (tslearn: pip install -e ".[bench]") runs, in the same
process and on the same inputs, the official code's cost structure, re-implemented here from its
published description: FRCorr as one CCC per (reaction, appropriate reaction) with np.corrcoef per
channel, FRDist as three tslearn ``dtw`` calls per (reaction, appropriate reaction), FRSyn as
np.corrcoef per lag and channel on the first reaction, each metric over a ``multiprocessing.Pool``
with one process per core (the published code's pool; its default sizes 4 and 8 exceed this
machine's cores). Beside it: ours, the same three metrics alone and the whole
``evaluate(..., protocol="official")``, with the ratios.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from reactdiff.hardware import hardware_line, nominal_clock_hz

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak_memory import peak_rss_mib  # noqa: E402


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


def peak_host_gib() -> float:
    """Peak resident memory of this process so far (VmHWM), in GiB."""
    return peak_rss_mib() / 1024


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def thread_cpu(function, *args) -> float:
    """CPU seconds of this thread for one single-threaded call: unlike wall time, not stretched when
    other processes share the core."""
    start = time.thread_time()
    function(*args)
    return time.thread_time() - start


# --- The official evaluation's cost structure (re-implemented from its published description) -----------

FRDIST_WEIGHTS = ((0, 15, 1 / 15), (15, 17, 1.0), (17, 25, 1 / 8))


def official_ccc(real: np.ndarray, generated: np.ndarray) -> float:
    """CCC averaged over channels, one np.corrcoef per channel (a NaN r counts 0, as specified)."""
    scores = []
    for c in range(real.shape[1]):
        y, p = real[:, c], generated[:, c]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.nan_to_num(np.corrcoef(y, p)[0][1])
        numerator = 2 * r * np.std(y) * np.std(p)
        scores.append(numerator / (np.var(y) + np.var(p) + (np.mean(y) - np.mean(p)) ** 2 + 1e-8))
    return float(np.mean(scores))


def official_frcorr_row(neighbour_row: np.ndarray, reactions: np.ndarray, listener: np.ndarray) -> float:
    candidates = np.flatnonzero(neighbour_row == 1)
    return sum(max(official_ccc(listener[j], reaction) for j in candidates) for reaction in reactions)


def official_frdist_row(neighbour_row: np.ndarray, reactions: np.ndarray, listener: np.ndarray) -> float:
    from tslearn.metrics import dtw

    candidates = np.flatnonzero(neighbour_row == 1)
    total = 0.0
    for reaction in reactions:
        total += min(
            sum(w * dtw(reaction.astype(np.float32)[:, a:b], listener[j].astype(np.float32)[:, a:b]) for a, b, w in FRDIST_WEIGHTS)
            for j in candidates
        )
    return total


def official_tlcc_first(reactions: np.ndarray, speaker: np.ndarray) -> float:
    """|offset| of the first reaction only (the published pool function returns inside its loop)."""
    reaction, correlations = reactions[0], []
    for lag in range(-49, 50):
        if lag > 0:
            x, y = reaction[lag:], speaker[:-lag]
        elif lag < 0:
            x, y = reaction[:lag], speaker[-lag:]
        else:
            x, y = reaction, speaker
        with np.errstate(divide="ignore", invalid="ignore"):
            per_channel = [np.corrcoef(x[:, c], y[:, c])[0, 1].item() for c in range(x.shape[1])]
        correlations.append(torch.mean(torch.Tensor(per_channel)))
    return abs(49 - torch.argmax(torch.Tensor(correlations)).item())


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def official_style(predictions, listener, speaker, neighbours, processes: int) -> tuple[dict, dict, dict]:
    """Wall seconds, CPU seconds (this process and its pool workers) and values of FRCorr, FRDist and
    FRSyn, each over its own process pool as published."""
    seconds, cpu, values = {}, {}, {}
    jobs = (
        ("FRCorr", partial(official_frcorr_row, listener=listener), zip(neighbours, predictions)),
        ("FRDist", partial(official_frdist_row, listener=listener), zip(neighbours, predictions)),
        ("FRSyn", official_tlcc_first, zip(predictions, speaker)),
    )
    for name, function, arguments in jobs:
        start, cpu_start = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN)
        with multiprocessing.get_context("fork").Pool(processes=processes) as pool:
            per_row = pool.starmap(function, arguments)
        # Leaving the block terminates and reaps the workers, so their CPU time is in RUSAGE_CHILDREN.
        seconds[name] = time.perf_counter() - start
        cpu[name] = cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_start
        values[name] = float(np.mean(per_row))
    return seconds, cpu, values


def ours_three(predictions, listener, speaker, neighbours, device: str) -> tuple[dict, dict, dict]:
    """Wall seconds, CPU seconds (all threads of this process) and values of our FRCorr, FRDist and
    FRSyn under the official protocol."""
    from reactdiff.metrics import frcorr, frdist, frsyn

    seconds, cpu, values = {}, {}, {}
    calls = (
        ("FRCorr", lambda: frcorr(predictions, listener, neighbours, "official", device)),
        ("FRDist", lambda: frdist(predictions, listener, neighbours, device)),
        ("FRSyn", lambda: frsyn(predictions, speaker, "official", device)),  # the first reaction, as published
    )
    for name, call in calls:
        cpu_start = time.process_time()
        seconds[name], values[name] = timed(call)
        cpu[name] = time.process_time() - cpu_start
    return seconds, cpu, values


def compare_with_official(args, device: str) -> None:
    from reactdiff.metrics import evaluate

    import tslearn
    from tslearn.metrics import dtw as tslearn_dtw

    n, k, frames = args.compare_rows, args.reactions, args.frames
    predictions, listener, speaker, neighbours = make_inputs(n, k, frames, args.compare_appropriate, seed=7)
    processes = os.cpu_count()
    pairs = int(neighbours.sum()) * k
    # tslearn compiles its kernel on the first call: do it here, before the pool forks, so that no
    # worker pays a compilation the published code would pay only once per process either.
    tslearn_dtw(predictions[0, 0, :20, :2], listener[0, :20, :2])
    print(
        f"\nOfficial evaluation's cost structure vs ours, same inputs, same run: N = {n}, K = {k}, T = {frames}, "
        f"{pairs // k} appropriate entries ({pairs} reaction/candidate DTW pairs); tslearn {tslearn.__version__}, "
        f"pool of {processes} processes per metric\n"
    )
    official_seconds, official_cpu, official_values = official_style(predictions, listener, speaker, neighbours, processes)
    ours_times, ours_cpu, ours_values = ours_three(predictions, listener, speaker, neighbours, device)
    ours_seconds = sum(ours_times.values())
    ours_full, _ = timed(evaluate, predictions, listener, speaker, neighbours, "official", device=device)
    print("| run | FRCorr s | FRDist s | FRSyn s | FRCorr + FRDist + FRSyn s | whole suite s |")
    print("|---|---|---|---|---|---|")
    official_total = sum(official_seconds.values())
    print(
        f"| official-style (tslearn, np.corrcoef, pool) | {official_seconds['FRCorr']:.2f} | "
        f"{official_seconds['FRDist']:.2f} | {official_seconds['FRSyn']:.2f} | {official_total:.2f} | - |"
    )
    print(
        f"| ours, device {device} | {ours_times['FRCorr']:.2f} | {ours_times['FRDist']:.2f} | {ours_times['FRSyn']:.2f} | "
        f"{ours_seconds:.2f} | {ours_full:.2f} |"
    )
    ratios = " | ".join(f"{official_seconds[name] / ours_times[name]:.1f}x" for name in ("FRCorr", "FRDist", "FRSyn"))
    print(
        f"| ratio official-style / ours | {ratios} | **{official_total / ours_seconds:.1f}x** | "
        f"{official_total / ours_full:.1f}x (ours doing more) |"
    )
    # CPU seconds depend far less on other load than wall seconds (idle-waiting threads, if any, count
    # against us): the work each side does, whatever share of the cores it got.
    names = ("FRCorr", "FRDist", "FRSyn")
    print("\n| CPU seconds (all processes and threads) | FRCorr | FRDist | FRSyn | total |")
    print("|---|---|---|---|---|")
    for label, cpu in (("official-style", official_cpu), ("ours", ours_cpu)):
        print(f"| {label} | " + " | ".join(f"{cpu[name]:.2f}" for name in names) + f" | {sum(cpu.values()):.2f} |")
    print(
        "| ratio official-style / ours | " + " | ".join(f"{official_cpu[name] / ours_cpu[name]:.1f}x" for name in names)
        + f" | **{sum(official_cpu.values()) / sum(ours_cpu.values()):.1f}x** |"
    )
    same = {
        name: abs(official_values[name] - ours_values[name]) <= 1e-6 * max(1.0, abs(official_values[name]))
        for name in official_values
    }
    print(
        "\nsame values (relative 1e-6): "
        + ", ".join(f"{name} {official_values[name]:.6f} vs {ours_values[name]:.6f} {same[name]}" for name in same)
    )


def dtw_throughput(frames: int) -> None:
    """One pair on one thread: tslearn, our kernel, and our kernel's local-cost arithmetic alone."""
    from tslearn.metrics import dtw as tslearn_dtw

    from reactdiff.metrics.dtw import FRDIST_GROUPS, _binary_groups, _grouped_dtw, _kernel_groups

    rng = np.random.default_rng(3)
    query, reference = emotion_like(rng, (2,), frames)
    bounds, weights = _kernel_groups(FRDIST_GROUPS)
    single = (np.ascontiguousarray(query), reference.T.astype(np.float64, order="C"), bounds, weights, np.inf)
    binary = _binary_groups(single[0], single[1], bounds)  # the AUs are 0/1 here: popcount local costs
    floats = np.zeros(3, dtype=bool)  # every group through the float loops, as for soft AU values
    ours_value = _grouped_dtw(*single, binary)
    same_paths = ours_value == _grouped_dtw(*single, floats)
    ours = min(thread_cpu(_grouped_dtw, *single, binary) for _ in range(5))
    ours_float = min(thread_cpu(_grouped_dtw, *single, floats) for _ in range(5))

    def library_pair():
        return sum(w * tslearn_dtw(query[:, a:b], reference[:, a:b]) for a, b, w in FRDIST_GROUPS)

    library_value = library_pair()
    library = min(thread_cpu(library_pair) for _ in range(3))
    floor = local_cost_floor(*single[:2])
    cells = frames * frames
    clock = nominal_clock_hz()
    print(f"\nOne weighted pair ({frames} x {frames} cells, 25 channels in 3 groups), one thread, CPU time, best of several:\n")
    print("| DTW | CPU ms per pair | grid cells/s per core | vs the float local-cost floor | check |")
    print("|---|---|---|---|---|")
    print(
        f"| tslearn dtw, 3 calls (official) | {library * 1e3:.2f} | {cells / library / 1e6:.0f} M | "
        f"{cells / library / floor:.2f} | same as ours (rel 1e-12): {abs(library_value - ours_value) <= 1e-12 * ours_value} |"
    )
    print(f"| ours, 0/1 AUs as popcounts (what these inputs get) | {ours * 1e3:.2f} | {cells / ours / 1e6:.0f} M | "
          f"{cells / ours / floor:.2f} | bit-identical to the float path: {same_paths} |")
    print(f"| ours, every channel as float64 (soft AU values) | {ours_float * 1e3:.2f} | {cells / ours_float / 1e6:.0f} M | "
          f"{cells / ours_float / floor:.2f} | |")
    print(
        f"| floor: our float local-cost loops alone (exact float64, no DP) | {cells / floor * 1e3:.2f} | "
        f"{floor / 1e6:.0f} M | 1.00 | |"
    )
    if clock:
        # Exact float64 needs two additions per channel and cell (subtract, accumulate): the FP add
        # pipes bound it. Channel-cells per cycle at the nominal clock make that comparable across CPUs.
        print(
            f"\nAt the nominal {clock / 1e9:.2f} GHz: ours {25 * cells / ours / clock:.2f} channel-cells per cycle per core "
            f"({25 * cells / ours_float / clock:.2f} with float AUs), "
            f"the local-cost loops {25 * floor / clock:.2f}, tslearn {25 * cells / library / clock:.3f}."
        )


def local_cost_floor(query: np.ndarray, reference: np.ndarray) -> float:
    """Grid cells/s of our kernel's local-cost loops alone (the same inlined helpers, rows two at a
    time, four channels per pass), without the dynamic programme: the float64 arithmetic any exact
    DTW must do, as fast as this machine runs it here. Our DTW can only approach it."""
    import numba

    from reactdiff.metrics.dtw import FRDIST_GROUPS, _add_squares1, _add_squares4, _kernel_groups

    @numba.njit(nogil=True)
    def local_costs(query, reference, bounds):
        n_query, n_ref = query.shape[0], reference.shape[1]
        cost = np.zeros((2, 3, n_ref + 1))
        total = 0.0
        for s in range(0, n_query - 1, 2):
            cost[:, :, :] = 0.0
            for g in range(3):
                c = bounds[g]
                while c + 4 <= bounds[g + 1]:
                    _add_squares4(
                        cost[0, g], cost[1, g],
                        (np.float64(query[s, c]), np.float64(query[s, c + 1]), np.float64(query[s, c + 2]), np.float64(query[s, c + 3])),
                        (np.float64(query[s + 1, c]), np.float64(query[s + 1, c + 1]),
                         np.float64(query[s + 1, c + 2]), np.float64(query[s + 1, c + 3])),
                        reference[c, :n_ref], reference[c + 1, :n_ref], reference[c + 2, :n_ref], reference[c + 3, :n_ref],
                    )
                    c += 4
                while c < bounds[g + 1]:
                    _add_squares1(cost[0, g], cost[1, g], np.float64(query[s, c]), np.float64(query[s + 1, c]), reference[c, :n_ref])
                    c += 1
            total += cost[0, 0, s % n_ref] + cost[1, 2, s % n_ref]  # keeps the loops from being optimised away
        return total

    bounds, _ = _kernel_groups(FRDIST_GROUPS)
    local_costs(query, reference, bounds)
    seconds = min(thread_cpu(local_costs, query, reference, bounds) for _ in range(7))
    return (query.shape[0] // 2 * 2) * reference.shape[1] / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[200, 1614], help="numbers of speaker rows N")
    parser.add_argument("--reactions", type=int, default=10, help="K")
    parser.add_argument("--frames", type=int, default=750, help="T")
    parser.add_argument("--appropriate", type=int, default=10, help="appropriate reactions per row (about)")
    parser.add_argument("--device", default="cpu", help="device of the metrics (FRDist: compiled CPU kernel or torch wavefront)")
    parser.add_argument("--skip-official", action="store_true", help="do not run the official-style comparison")
    parser.add_argument("--compare-rows", type=int, default=60, help="N of the official-style comparison")
    parser.add_argument("--compare-appropriate", type=int, default=5, help="appropriate reactions per row there")
    parser.add_argument("--protocol", choices=("2024", "react2025"), default="2024",
                        help="2024: the stacked official/corrected suite; react2025: evaluate_react2025 on mixed lengths")
    parser.add_argument("--react-items", type=int, default=60, help="react2025: number of items N")
    parser.add_argument("--react-frames", type=int, nargs=2, default=[300, 3000], metavar=("MIN", "MAX"),
                        help="react2025: item lengths drawn uniformly in [MIN, MAX]")
    parser.add_argument("--react-truths", type=int, default=10, help="react2025: ground truths per item (G)")
    args = parser.parse_args()

    import numba

    from reactdiff.device import resolve_device
    from reactdiff.metrics import best_ccc_protocols, diversity, frechet_distances, min_dtw, tlcc_offsets_protocols

    device = str(resolve_device(args.device))
    gpu = device.startswith("cuda")
    print(hardware_line(
        f"metrics on {device} ({torch.cuda.get_device_name() if gpu else 'cpu'}), numba threads "
        f"{numba.get_num_threads()}; numpy {np.__version__}, numba {numba.__version__}"
    ))
    # Compile the DTW kernel once, outside the timings.
    warm = make_inputs(2, 2, 20, 2)
    min_dtw(warm[0], warm[1], warm[3], device)

    if args.protocol == "react2025":
        return bench_react2025(args, device)

    if not args.skip_official:
        compare_with_official(args, device)
        dtw_throughput(args.frames)
    if not args.sizes:
        return 0

    # The parts of evaluate_protocols(..., ("official", "corrected")), the whole suite under both
    # protocols, each timed alone in the order that function runs them; their sum is the suite.
    both = ("official", "corrected")
    names = ("FRDist", "FRDiv + FRVar + FRDvs", "FD-emotion", "FRCorr (both protocols)", "FRSyn (both protocols)")
    print()
    print("| N | appropriate entries (sum of M) | " + " | ".join(f"{name} s" for name in names)
          + " | whole suite s | peak host RSS GiB | peak GPU GiB |")
    print("|" + "---|" * (len(names) + 5), flush=True)
    for n in sorted(args.sizes):
        predictions, listener, speaker, neighbours = make_inputs(n, args.reactions, args.frames, args.appropriate, seed=n)
        if gpu:
            torch.cuda.reset_peak_memory_stats()
        timings = {}
        timings["FRDist"], _ = timed(min_dtw, predictions, listener, neighbours, device)
        timings["FRDiv + FRVar + FRDvs"], _ = timed(diversity, predictions, device)
        timings["FD-emotion"], _ = timed(frechet_distances, predictions, listener, "emotion", device)
        timings["FRCorr (both protocols)"], _ = timed(best_ccc_protocols, predictions, listener, neighbours, both, device)
        timings["FRSyn (both protocols)"], _ = timed(tlcc_offsets_protocols, predictions, speaker, both, device)
        total = sum(timings.values())
        gpu_peak = f"{torch.cuda.max_memory_allocated() / 2**30:.2f}" if gpu else "-"
        cells = " | ".join(f"{timings[name]:.2f}" for name in names)
        # One row as soon as its size is done: a long run still reports the sizes it finished.
        print(f"| {n} | {int(neighbours.sum())} | {cells} | {total:.1f} | {peak_host_gib():.2f} | {gpu_peak} |", flush=True)
    return 0


def bench_react2025(args, device: str) -> int:
    """evaluate_react2025 on N items of mixed length: K predictions and a speaker of the item's length,
    G ground truths of independent lengths in the same range (the paired one first, same length)."""
    from reactdiff.metrics import evaluate_react2025

    rng = np.random.default_rng(0)
    low, high = args.react_frames
    lengths = rng.integers(low, high + 1, size=args.react_items)
    predictions = [emotion_like(rng, (args.reactions,), int(length)) for length in lengths]
    speaker = [emotion_like(rng, (), int(length)) for length in lengths]
    appropriate = [
        [emotion_like(rng, (), int(length))]
        + [emotion_like(rng, (), int(other)) for other in rng.integers(low, high + 1, size=args.react_truths - 1)]
        for length in lengths
    ]
    gpu = device.startswith("cuda")
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    seconds, scores = timed(evaluate_react2025, predictions, appropriate, speaker, device=device)
    gpu_peak = f"{torch.cuda.max_memory_allocated() / 2**30:.2f}" if gpu else "-"
    print()
    print(f"react2025: N = {args.react_items} items of {low}..{high} frames (sum {int(lengths.sum())}), "
          f"K = {args.reactions}, G = {args.react_truths}, alignment {scores['alignment']}")
    print("| total s | peak host RSS GiB | peak GPU GiB | FRCorr | FRDist | FRDiv | FRVar | FRSyn |")
    print("|---|---|---|---|---|---|---|---|")
    values = " | ".join(f"{scores[name]:.4g}" for name in ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRSyn"))
    print(f"| {seconds:.1f} | {peak_host_gib():.2f} | {gpu_peak} | {values} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
