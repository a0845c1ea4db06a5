"""Dynamic time warping for FRDist, compiled with numba.

The definition is the one of ``tslearn.metrics.dtw``: unconstrained DTW between two multivariate
sequences, local cost = squared Euclidean distance between frames, accumulated along the cheapest
path, result = square root of the accumulated cost. Inputs are float32 values accumulated in
float64, as in the official evaluation (tslearn casts its inputs to float64).

FRDist needs, for every reaction ``P[k, i]``, the minimum over the appropriate real reactions
``L[j], j in A(k)`` of a weighted sum of three DTWs (AUs, valence/arousal, expressions). The kernel
computes the three DTWs in one pass over the warping grid and abandons a candidate ``j`` as soon as
a lower bound on its weighted sum exceeds the best candidate so far. The bound is exact (the
accumulated cost only grows along a path, and float rounding is monotone), so the minimum is the
same number the full computation gives, just found sooner.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: FRDist channel groups of the 25-d emotion vector and their weights: AUs / 15, VA / 1, expressions / 8.
FRDIST_GROUPS = ((0, 15, 1.0 / 15.0), (15, 17, 1.0), (17, 25, 1.0 / 8.0))


@numba.njit(cache=True, nogil=True)
def _grouped_dtw(query, reference, bounds, weights, best):
    """Weighted sum over channel groups of DTW(query[:, group], reference[group, :]).

    ``query`` is (T, C), ``reference`` is stored channel-major (C, T') so that the local costs of a
    whole grid row are computed with contiguous, vectorisable loops. Returns ``inf`` as soon as the
    weighted sum is certain to exceed ``best``.
    """
    n_query, n_ref = query.shape[0], reference.shape[1]
    n_groups = weights.shape[0]
    cost = np.empty((n_groups, n_ref))
    # Two rows of the accumulated-cost grid per group; column 0 is the "before the start" border.
    previous = np.full((n_groups, n_ref + 1), np.inf)
    current = np.full((n_groups, n_ref + 1), np.inf)
    previous[:, 0] = 0.0
    for s in range(n_query):
        cost[:, :] = 0.0
        for g in range(n_groups):
            # Channels are added in ascending order per cell (tslearn's summation order), four at a
            # time so that each pass over the row reads and writes the row's costs once per 4 channels.
            group_cost = cost[g]
            c = bounds[g]
            while c + 4 <= bounds[g + 1]:
                # float32 inputs, widened exactly: all arithmetic is float64.
                value0, value1 = np.float64(query[s, c]), np.float64(query[s, c + 1])
                value2, value3 = np.float64(query[s, c + 2]), np.float64(query[s, c + 3])
                ref0, ref1, ref2, ref3 = reference[c], reference[c + 1], reference[c + 2], reference[c + 3]
                for t in range(n_ref):
                    diff0 = value0 - np.float64(ref0[t])
                    diff1 = value1 - np.float64(ref1[t])
                    diff2 = value2 - np.float64(ref2[t])
                    diff3 = value3 - np.float64(ref3[t])
                    group_cost[t] = (((group_cost[t] + diff0 * diff0) + diff1 * diff1) + diff2 * diff2) + diff3 * diff3
                c += 4
            while c < bounds[g + 1]:
                value, ref = np.float64(query[s, c]), reference[c]
                for t in range(n_ref):
                    diff = value - np.float64(ref[t])
                    group_cost[t] += diff * diff
                c += 1
        for g in range(n_groups):
            # cost + min(a, b, c) == min(cost + min(a, b), cost + c) exactly (rounding is monotone),
            # so the two predecessors from the previous row are handled in a vectorisable pass ...
            for t in range(n_ref):
                up = previous[g, t + 1]
                diagonal = previous[g, t]
                current[g, t + 1] = cost[g, t] + (diagonal if diagonal < up else up)
            current[g, 0] = np.inf
        # ... and only the left predecessor remains as a serial dependency. The kernel always runs
        # three groups (unused ones are empty) so that the three chains are interleaved in registers.
        left0 = left1 = left2 = np.inf
        min0 = min1 = min2 = np.inf
        for t in range(1, n_ref + 1):
            value0 = cost[0, t - 1] + left0
            value1 = cost[1, t - 1] + left1
            value2 = cost[2, t - 1] + left2
            left0 = current[0, t] if current[0, t] < value0 else value0
            left1 = current[1, t] if current[1, t] < value1 else value1
            left2 = current[2, t] if current[2, t] < value2 else value2
            current[0, t] = left0
            current[1, t] = left1
            current[2, t] = left2
            min0 = left0 if left0 < min0 else min0
            min1 = left1 if left1 < min1 else min1
            min2 = left2 if left2 < min2 else min2
        bound = weights[0] * math.sqrt(min0) + weights[1] * math.sqrt(min1) + weights[2] * math.sqrt(min2)
        # Every warping path crosses this row, so the final cost of each group is at least its row minimum.
        if bound > best:
            return np.inf
        previous, current = current, previous
    total = 0.0
    for g in range(n_groups):
        total += weights[g] * math.sqrt(previous[g, n_ref])
    return total


@numba.njit(cache=True, nogil=True)
def _grouped_diagonal(query, reference, bounds, weights):
    """Weighted grouped cost of the diagonal warping path: an upper bound on the grouped DTW."""
    total = 0.0
    for g in range(weights.shape[0]):
        accumulated = 0.0
        for s in range(query.shape[0]):
            cost = 0.0
            for c in range(bounds[g], bounds[g + 1]):
                diff = np.float64(query[s, c]) - np.float64(reference[c, s])
                cost += diff * diff
            accumulated = cost + accumulated
        total += weights[g] * math.sqrt(accumulated)
    return total


@numba.njit(cache=True, parallel=True)
def _min_grouped_dtw(predictions, references, offsets, candidates, bounds, weights, tasks):
    n_reactions = predictions.shape[1]
    result = np.full(tasks.shape[0], np.nan)
    # One task per reaction to compute: tasks are independent, so they spread over all cores.
    for index in numba.prange(tasks.shape[0]):
        task = tasks[index]
        row, reaction = task // n_reactions, task % n_reactions
        query = predictions[row, reaction]
        start, stop = offsets[row], offsets[row + 1]
        upper = np.full(stop - start, np.inf)
        if query.shape[0] == references.shape[2]:
            # The diagonal path bounds each candidate from above: the smallest bound seeds the
            # abandoning threshold, and trying candidates from the most promising one tightens it fast.
            for m in range(start, stop):
                upper[m - start] = _grouped_diagonal(query, references[candidates[m]], bounds, weights)
        best = upper.min() if stop > start else np.inf
        exact = np.inf
        for m in np.argsort(upper):
            value = _grouped_dtw(query, references[candidates[start + m]], bounds, weights, best)
            if value < exact:
                exact = value
            if value < best:
                best = value
        result[index] = exact
    return result


def min_grouped_dtw(
    predictions: np.ndarray,
    references: np.ndarray,
    neighbours: np.ndarray,
    groups=FRDIST_GROUPS,
) -> np.ndarray:
    """For every reaction ``predictions[k, i]`` the minimum over ``j`` with ``neighbours[k, j] == 1``
    of ``sum_g weight_g * DTW(predictions[k, i][:, g], references[j][:, g])``.

    ``predictions`` (N, K, T, C), ``references`` (M, T', C), ``neighbours`` (N, M) 0/1. Returns (N, K)
    float64. Runs in parallel over all cores (``numba.set_num_threads`` limits it).
    """
    # float32 in memory (the kernel widens each value to float64): no float64 copy of the predictions.
    predictions = np.ascontiguousarray(predictions, dtype=np.float32)
    # Channel-major references: see _grouped_dtw.
    references = np.ascontiguousarray(np.asarray(references, dtype=np.float32).transpose(0, 2, 1))
    neighbours = np.asarray(neighbours)
    rows, columns = np.nonzero(neighbours == 1)
    offsets = np.searchsorted(rows, np.arange(neighbours.shape[0] + 1)).astype(np.int64)
    bounds, weights = _kernel_groups(groups)
    # A reaction identical to its row's first one (baselines that copy one sequence K times) has the
    # same minimum: compute it once.
    repeats = np.zeros(predictions.shape[:2], dtype=bool)
    for row in range(predictions.shape[0]):
        repeats[row, 1:] = (predictions[row, 1:] == predictions[row, :1]).all(axis=(1, 2))
    tasks = np.flatnonzero(~repeats.ravel())
    computed = _min_grouped_dtw(predictions, references, offsets, columns.astype(np.int64), bounds, weights, tasks)
    result = np.empty(predictions.shape[0] * predictions.shape[1])
    result[tasks] = computed
    result = result.reshape(predictions.shape[:2])
    return np.where(repeats, result[:, :1], result)


def _kernel_groups(groups) -> tuple[np.ndarray, np.ndarray]:
    """Bounds and weights of 1 to 3 adjacent channel groups, padded to the kernel's three groups."""
    groups = list(groups)
    if not 1 <= len(groups) <= 3 or any(groups[g][1] != groups[g + 1][0] for g in range(len(groups) - 1)):
        raise ValueError(f"DTW channel groups must be 1 to 3 adjacent ranges, got {groups}")
    end = groups[-1][1]
    # An empty group with weight 0 adds exactly 0.0 to the weighted sum.
    groups += [(end, end, 0.0)] * (3 - len(groups))
    bounds = np.array([groups[0][0]] + [stop for _, stop, _ in groups], dtype=np.int64)
    weights = np.array([weight for _, _, weight in groups], dtype=np.float64)
    return bounds, weights


def dtw(query: np.ndarray, reference: np.ndarray) -> float:
    """DTW between two (T, C) sequences: sqrt of the squared-Euclidean cost of the best path."""
    query = np.asarray(query, dtype=np.float32)
    reference = np.asarray(reference, dtype=np.float32)
    if query.ndim == 1:
        query, reference = query.reshape(-1, 1), reference.reshape(-1, 1)
    query, reference = np.ascontiguousarray(query), np.ascontiguousarray(reference.T)
    bounds, weights = _kernel_groups([(0, query.shape[1], 1.0)])
    return float(_grouped_dtw(query, reference, bounds, weights, np.inf))


def definition_dtw(query: np.ndarray, reference: np.ndarray) -> float:
    """DTW exactly as defined (tslearn's ``dtw``), cell by cell in Python: the square root of the
    accumulated squared Euclidean cost, inputs rounded to float32 and accumulated in float64 as
    the official evaluation does. Thousands of times slower than :func:`dtw`; it is the oracle
    that tests and benchmarks compare the compiled kernel with."""
    query = np.asarray(query, dtype=np.float32).astype(np.float64)
    reference = np.asarray(reference, dtype=np.float32).astype(np.float64)
    cost = np.full((len(query) + 1, len(reference) + 1), np.inf)
    cost[0, 0] = 0.0
    for s in range(len(query)):
        local = ((query[s] - reference) ** 2).sum(axis=1)
        for t in range(len(reference)):
            cost[s + 1, t + 1] = local[t] + min(cost[s, t], cost[s, t + 1], cost[s + 1, t])
    return float(np.sqrt(cost[-1, -1]))
