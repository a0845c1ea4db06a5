"""Dynamic time warping for FRDist, compiled with numba.

The definition is the one of ``tslearn.metrics.dtw``: unconstrained DTW between two multivariate
sequences, local cost = squared Euclidean distance between frames, accumulated along the cheapest
path, result = square root of the accumulated cost. Inputs are float32 values accumulated in
float64, as in the official evaluation (tslearn casts its inputs to float64).

FRDist needs, for every reaction ``P[k, i]``, the minimum over the appropriate real reactions
``L[j], j in A(k)`` of a weighted sum of three DTWs (AUs, valence/arousal, expressions). The kernel
computes the three DTWs in one pass over the warping grid and abandons a candidate ``j`` once a
lower bound on its weighted sum (checked every few rows) exceeds the best candidate so far. The
bound is exact (the accumulated cost only grows along a path, and float rounding is monotone), so
the minimum is the same number the full computation gives, just found sooner.

A channel group whose values are all exactly 0 or 1 in both inputs (REACT's AU occurrences, and
every method here thresholds them) takes its local cost as a popcount of the XOR of the frames'
bit masks: the number of differing channels, which is exactly the float64 sum of squared
differences the definition adds (integers up to 63 are exact), for a handful of integer
operations per grid cell instead of three float operations per channel.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: FRDist channel groups of the 25-d emotion vector and their weights: AUs / 15, VA / 1, expressions / 8.
FRDIST_GROUPS = ((0, 15, 1.0 / 15.0), (15, 17, 1.0), (17, 25, 1.0 / 8.0))


@numba.njit(inline="always")
def _add_squares4(out0, out1, query0, query1, ref0, ref1, ref2, ref3):
    """Adds four channels' squared differences to the local costs of two grid rows.

    Each loaded reference value serves both rows. Row 1 is stored one column to the right (see
    _grouped_dtw). Channels are added in ascending order per cell, tslearn's summation order.
    """
    a0, a1, a2, a3 = query0
    b0, b1, b2, b3 = query1
    for t in range(ref0.shape[0]):
        x0, x1, x2, x3 = ref0[t], ref1[t], ref2[t], ref3[t]
        d0, d1, d2, d3 = a0 - x0, a1 - x1, a2 - x2, a3 - x3
        out0[t] = (((out0[t] + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3
        e0, e1, e2, e3 = b0 - x0, b1 - x1, b2 - x2, b3 - x3
        out1[t + 1] = (((out1[t + 1] + e0 * e0) + e1 * e1) + e2 * e2) + e3 * e3


@numba.njit(inline="always")
def _add_squares1(out0, out1, value0, value1, ref):
    for t in range(ref.shape[0]):
        d0, d1 = value0 - ref[t], value1 - ref[t]
        out0[t] += d0 * d0
        out1[t + 1] += d1 * d1


_M1, _M2, _M4, _H01 = (np.uint64(0x5555555555555555), np.uint64(0x3333333333333333),
                      np.uint64(0x0F0F0F0F0F0F0F0F), np.uint64(0x0101010101010101))


@numba.njit(inline="always")
def _popcount(x):
    """Set bits of a uint64 (SWAR; all constants uint64, so numba never mixes in signed ints)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@numba.njit(inline="always")
def _add_popcounts(out0, out1, bits0, bits1, ref_bits):
    """Local costs of a binary group for two grid rows: differing channels per cell (row 1 shifted
    one column right, as in _add_squares4)."""
    for t in range(ref_bits.shape[0]):
        out0[t] += np.float64(_popcount(bits0 ^ ref_bits[t]))
        out1[t + 1] += np.float64(_popcount(bits1 ^ ref_bits[t]))


@numba.njit(inline="always")
def _bits(values, low, high):
    """Bit mask of the channels low..high-1 of one frame that are non-zero."""
    mask = np.uint64(0)
    for c in range(low, high):
        if values[c] != 0:
            mask |= np.uint64(1) << np.uint64(c - low)
    return mask


@numba.njit(cache=True)
def _binary_channels(values, low, high):
    """Whether channels low..high-1 of an (M, T, C) array (any strides) are all exactly 0 or 1, in
    one pass with no temporaries (the REACT 2024 test predictions are 1.2 GB)."""
    for m in range(values.shape[0]):
        for t in range(values.shape[1]):
            for c in range(low, high):
                value = values[m, t, c]
                if value != 0 and value != 1:
                    return False
    return True


@numba.njit(inline="always")
def _min3(a, b, c):
    smaller = a if a < b else b
    return smaller if smaller < c else c


#: Row pairs between two early-abandoning checks (each check is a pass over three stored rows).
_BOUND_EVERY = 4


@numba.njit(inline="always")
def _row_min(row, n_ref):
    """Minimum of row[1 : n_ref + 1] with four independent running minima (a short dependency chain)."""
    m0 = m1 = m2 = m3 = np.inf
    t = 1
    while t + 4 <= n_ref + 1:
        m0 = row[t] if row[t] < m0 else m0
        m1 = row[t + 1] if row[t + 1] < m1 else m1
        m2 = row[t + 2] if row[t + 2] < m2 else m2
        m3 = row[t + 3] if row[t + 3] < m3 else m3
        t += 4
    while t <= n_ref:
        m0 = row[t] if row[t] < m0 else m0
        t += 1
    smaller = _min3(m0, m1, m2)
    return m3 if m3 < smaller else smaller


@numba.njit(cache=True, nogil=True)
def _grouped_dtw(query, reference, bounds, weights, best, binary):
    """Weighted sum over channel groups of DTW(query[:, group], reference[group, :]).

    ``query`` is (T, C) float32, ``reference`` is (C, T') float64 stored channel-major, so that the
    local costs of a whole grid row are contiguous, vectorisable loops. Returns ``inf`` once the
    weighted sum is certain to exceed ``best`` (checked every _BOUND_EVERY row pairs).

    The grid is walked two rows at a time with row 1 one column behind row 0: cell (1, t - 1)
    needs (0, t - 1), (0, t - 2) and (1, t - 2), all finished one step earlier. That gives six
    independent dependency chains per step (two rows x three groups) where a row-by-row walk has
    three, and the walk is bound by the latency of those chains. Every cell is still
    ``cost + min(up, diagonal, left)`` in float64, so results are bit-identical to the definition.
    ``binary[g]``: group g is all 0/1 in both inputs, so its local costs are popcounts.
    """
    n_query, n_ref = query.shape[0], reference.shape[1]
    # Per-frame bit masks of the binary groups (a few operations per frame, against n_ref per row).
    query_bits = np.zeros((3, n_query), dtype=np.uint64)
    ref_bits = np.zeros((3, n_ref), dtype=np.uint64)
    for g in range(3):
        if binary[g]:
            for s in range(n_query):
                query_bits[g, s] = _bits(query[s], bounds[g], bounds[g + 1])
            for t in range(n_ref):
                ref_bits[g, t] = _bits(reference[:, t], bounds[g], bounds[g + 1])
    # Local costs of the current two rows per group; row 0 at index t, row 1 at t + 1, +inf pads.
    cost = np.empty((2, 3, n_ref + 1))
    # Accumulated costs of the row above the current two, index j + 1; index 0 is the "before the
    # start" border (0 only above the first row), the last index pads the skewed walk.
    above = np.full((3, n_ref + 2), np.inf)
    above[:, 0] = 0.0
    final0 = final1 = final2 = np.inf
    for s in range(0, n_query, 2):
        pair = s + 1 < n_query
        second = s + 1 if pair else s
        cost[:, :, :] = 0.0
        for g in range(3):
            row0, row1 = cost[0, g], cost[1, g]
            c = bounds[g + 1] if binary[g] else bounds[g]  # a binary group skips the float loops
            if binary[g]:
                _add_popcounts(row0, row1, query_bits[g, s], query_bits[g, second], ref_bits[g, :n_ref])
            while c + 4 <= bounds[g + 1]:
                # float32 inputs, widened exactly: all arithmetic is float64.
                _add_squares4(
                    row0, row1,
                    (np.float64(query[s, c]), np.float64(query[s, c + 1]), np.float64(query[s, c + 2]), np.float64(query[s, c + 3])),
                    (np.float64(query[second, c]), np.float64(query[second, c + 1]),
                     np.float64(query[second, c + 2]), np.float64(query[second, c + 3])),
                    reference[c, :n_ref], reference[c + 1, :n_ref], reference[c + 2, :n_ref], reference[c + 3, :n_ref],
                )
                c += 4
            while c < bounds[g + 1]:
                _add_squares1(row0, row1, np.float64(query[s, c]), np.float64(query[second, c]), reference[c, :n_ref])
                c += 1
            row0[n_ref] = np.inf
            row1[0] = np.inf
            if not pair:
                row1[:] = np.inf  # an odd last row: the second row of the walk does not exist
        above0, above1, above2 = above[0], above[1], above[2]
        cost00, cost01, cost02 = cost[0, 0], cost[0, 1], cost[0, 2]
        cost10, cost11, cost12 = cost[1, 0], cost[1, 1], cost[1, 2]
        # Latest and previous value of row 0 and latest of row 1, per group.
        last00 = last01 = last02 = np.inf
        before00 = before01 = before02 = np.inf
        last10 = last11 = last12 = np.inf
        for t in range(n_ref + 1):
            # Row 1, column t - 1: up = row 0 at t - 1, diagonal = row 0 at t - 2, left = row 1 at t - 2.
            new10 = cost10[t] + _min3(last00, before00, last10)
            new11 = cost11[t] + _min3(last01, before01, last11)
            new12 = cost12[t] + _min3(last02, before02, last12)
            # Row 0, column t: up and diagonal from the row above, left = row 0 at t - 1.
            new00 = cost00[t] + _min3(above0[t + 1], above0[t], last00)
            new01 = cost01[t] + _min3(above1[t + 1], above1[t], last01)
            new02 = cost02[t] + _min3(above2[t + 1], above2[t], last02)
            # Row 1's column t - 1 is the next pair's "above" at index t, which row 0 no longer reads.
            above0[t], above1[t], above2[t] = new10, new11, new12
            before00, before01, before02 = last00, last01, last02
            last00, last01, last02 = new00, new01, new02
            last10, last11, last12 = new10, new11, new12
        if not pair:
            # An odd last row: row 0 ended at column n_ref - 1 one step before the +inf pad.
            final0, final1, final2 = before00, before01, before02
            break
        final0, final1, final2 = last10, last11, last12
        # Every warping path crosses row 1, so each group's final cost is at least that row's minimum
        # (the accumulated cost only grows along a path; float rounding is monotone). The minima are
        # a separate pass over the stored row, every _BOUND_EVERY row pairs, to keep the walk short.
        if best < np.inf and (s // 2) % _BOUND_EVERY == _BOUND_EVERY - 1:
            bound = (
                weights[0] * math.sqrt(_row_min(above0, n_ref))
                + weights[1] * math.sqrt(_row_min(above1, n_ref))
                + weights[2] * math.sqrt(_row_min(above2, n_ref))
            )
            if bound > best:
                return np.inf
    return weights[0] * math.sqrt(final0) + weights[1] * math.sqrt(final1) + weights[2] * math.sqrt(final2)


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
def _min_grouped_dtw(predictions, references, offsets, candidates, bounds, weights, tasks, binary):
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
            value = _grouped_dtw(query, references[candidates[start + m]], bounds, weights, best, binary)
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
    # Channel-major float64 references (see _grouped_dtw): widened once here rather than in every
    # pair's inner loop; rounding through float32 first keeps the official float32 inputs.
    references = np.asarray(references, dtype=np.float32).transpose(0, 2, 1).astype(np.float64, order="C")
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
    binary = _binary_groups(predictions, references, bounds)
    computed = _min_grouped_dtw(predictions, references, offsets, columns.astype(np.int64), bounds, weights, tasks, binary)
    result = np.empty(predictions.shape[0] * predictions.shape[1])
    result[tasks] = computed
    result = result.reshape(predictions.shape[:2])
    return np.where(repeats, result[:, :1], result)


def _binary_groups(query: np.ndarray, reference_channel_major: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per kernel group: all values 0 or 1 in both inputs (and at most 63 channels), so the
    popcount local cost applies. ``query`` (..., T, C), references channel-major (..., C, T')."""
    frames = query.reshape(1, -1, query.shape[-1])  # a view: (1, frames, C)
    # (M, T', C) views of the channel-major references: a frame's channels sit T' apart, but
    # consecutive frames reuse the same cache lines.
    references = reference_channel_major.reshape(-1, *reference_channel_major.shape[-2:]).transpose(0, 2, 1)
    return np.array([
        0 < bounds[g + 1] - bounds[g] <= 63
        and _binary_channels(frames, bounds[g], bounds[g + 1])
        and _binary_channels(references, bounds[g], bounds[g + 1])
        for g in range(3)
    ])


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
    query, reference = np.ascontiguousarray(query), reference.T.astype(np.float64, order="C")
    bounds, weights = _kernel_groups([(0, query.shape[1], 1.0)])
    return float(_grouped_dtw(query, reference, bounds, weights, np.inf, _binary_groups(query, reference, bounds)))


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
