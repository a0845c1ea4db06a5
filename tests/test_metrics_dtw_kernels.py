"""The DTW kernels (compiled CPU kernel, torch wavefront) against the cell-by-cell definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reactdiff.metrics.dtw import FRDIST_GROUPS, definition_dtw, min_grouped_dtw
from reactdiff.metrics.dtw_wavefront import grouped_dtw_wavefront, min_grouped_dtw_wavefront

# Odd, even, unequal, one-row, one-column and single-cell warping grids.
GRIDS = [(7, 7), (8, 8), (6, 9), (9, 4), (1, 6), (6, 1), (1, 1)]


def grouped_definition(query: np.ndarray, reference: np.ndarray) -> float:
    return sum(w * definition_dtw(query[:, a:b], reference[:, a:b]) for a, b, w in FRDIST_GROUPS)


@pytest.mark.parametrize("lengths", GRIDS)
def test_wavefront_equals_definition(lengths):
    rng = np.random.default_rng(sum(lengths))
    queries = rng.normal(size=(5, lengths[0], 25)).astype(np.float32)
    references = rng.normal(size=(5, lengths[1], 25)).astype(np.float32)
    # The same torch code the GPU runs, on CPU tensors.
    got = grouped_dtw_wavefront(torch.from_numpy(queries), torch.from_numpy(references)).numpy()
    expected = [grouped_definition(queries[b], references[b]) for b in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("frames", [9, 10, 1])
def test_min_over_unequal_candidate_sets(frames):
    """Rows with 1, 2, ... appropriate candidates, one of them a copy of a reaction (distance 0): the
    wavefront's minimum, the CPU kernel's and the definition's agree."""
    rng = np.random.default_rng(frames)
    rows, reactions = 5, 3
    predictions = rng.random((rows, reactions, frames, 25)).astype(np.float32)
    listener = rng.random((rows, frames, 25)).astype(np.float32)
    listener[2] = predictions[3, 1]  # an exact match among row 3's candidates
    neighbours = np.eye(rows, dtype=np.int8)
    neighbours[1, 0] = neighbours[3, [0, 2, 4]] = neighbours[4, :] = 1
    expected = np.array(
        [
            [
                min(grouped_definition(predictions[k, i], listener[j]) for j in np.flatnonzero(neighbours[k]))
                for i in range(reactions)
            ]
            for k in range(rows)
        ]
    )
    wavefront = min_grouped_dtw_wavefront(predictions, listener, neighbours, device="cpu")
    compiled = min_grouped_dtw(predictions, listener, neighbours)
    np.testing.assert_allclose(wavefront, expected, rtol=1e-12)
    np.testing.assert_allclose(compiled, expected, rtol=1e-12)
    assert wavefront[3, 1] == 0.0


@pytest.mark.parametrize("frames", [40, 41])
def test_compiled_kernel_abandons_only_hopeless_candidates(frames):
    """The CPU kernel returns inf once a lower bound exceeds ``best`` and the exact value otherwise."""
    from reactdiff.metrics.dtw import _grouped_dtw, _kernel_groups

    rng = np.random.default_rng(frames)
    query = np.cumsum(rng.normal(size=(frames, 25)), axis=0).astype(np.float32)
    reference = np.cumsum(rng.normal(size=(frames, 25)), axis=0).astype(np.float32)
    bounds, weights = _kernel_groups(FRDIST_GROUPS)
    arguments = (query, reference.T.astype(np.float64, order="C"), bounds, weights)
    value = grouped_definition(query, reference)
    floats = np.zeros(3, dtype=bool)
    assert _grouped_dtw(*arguments, np.inf, floats) == pytest.approx(value, rel=1e-12)
    assert _grouped_dtw(*arguments, 1.01 * value, floats) == pytest.approx(value, rel=1e-12)
    assert _grouped_dtw(*arguments, 0.2 * value, floats) == np.inf


def binary_aus(rng, shape):
    """Emotion-like frames whose 15 AUs are exact 0/1 occurrences (as REACT's and our methods')."""
    values = rng.random(shape).astype(np.float32)
    values[..., :15] = rng.random(shape[:-1] + (15,)) < 0.3
    return values


@pytest.mark.parametrize("lengths", GRIDS)
def test_popcount_local_costs_are_the_float_ones_exactly(lengths):
    """With 0/1 AUs the kernel counts differing AUs (popcount) instead of summing squares: the
    same numbers bit for bit, on odd, even, one-row and one-column grids."""
    from reactdiff.metrics.dtw import _binary_groups, _grouped_dtw, _kernel_groups

    rng = np.random.default_rng(sum(lengths) + 7)
    query, reference = binary_aus(rng, (lengths[0], 25)), binary_aus(rng, (lengths[1], 25))
    channel_major = reference.T.astype(np.float64, order="C")
    bounds, weights = _kernel_groups(FRDIST_GROUPS)
    binary = _binary_groups(query, channel_major, bounds)
    assert binary.tolist() == [True, False, False]
    fast = _grouped_dtw(query, channel_major, bounds, weights, np.inf, binary)
    assert fast == _grouped_dtw(query, channel_major, bounds, weights, np.inf, np.zeros(3, dtype=bool))
    assert fast == pytest.approx(grouped_definition(query, reference), rel=1e-12)


def test_popcount_path_only_for_exact_zero_one_groups():
    """One AU value of 0.5 anywhere (or a group over 63 channels) keeps the float path, and the
    minimum over candidates is the definition's either way."""
    from reactdiff.metrics.dtw import _binary_groups, _kernel_groups

    rng = np.random.default_rng(3)
    predictions = binary_aus(rng, (3, 2, 9, 25))
    listener = binary_aus(rng, (3, 8, 25))
    neighbours = np.array([[1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=np.int8)
    bounds, _ = _kernel_groups(FRDIST_GROUPS)
    channel_major = listener.transpose(0, 2, 1).astype(np.float64)
    assert _binary_groups(predictions, channel_major, bounds)[0]
    soft = predictions.copy()
    soft[2, 1, 4, 3] = 0.5
    assert not _binary_groups(soft, channel_major, bounds)[0]
    assert not _binary_groups(predictions, channel_major, np.array([0, 0, 0, 0]))[0]  # empty group
    wide = np.zeros((1, 4, 70), dtype=np.float32)
    assert not _binary_groups(wide, wide.transpose(0, 2, 1).astype(np.float64), np.array([0, 64, 70, 70]))[0]
    for run in (predictions, soft):
        expected = [[min(grouped_definition(run[k, i], listener[j]) for j in np.flatnonzero(neighbours[k])) for i in range(2)] for k in range(3)]
        np.testing.assert_allclose(min_grouped_dtw(run, listener, neighbours), expected, rtol=1e-12)


def test_min_dtw_device_choice():
    """"auto" without a GPU runs the CPU kernel; a GPU this machine lacks is a one-line ConfigError."""
    from reactdiff.errors import ConfigError
    from reactdiff.metrics import min_dtw

    rng = np.random.default_rng(5)
    predictions = rng.random((2, 2, 6, 25)).astype(np.float32)
    listener = rng.random((2, 6, 25)).astype(np.float32)
    neighbours = np.eye(2)
    expected = min_dtw(predictions, listener, neighbours, "cpu")
    if torch.cuda.is_available():
        np.testing.assert_allclose(min_dtw(predictions, listener, neighbours, "cuda"), expected, rtol=1e-12)
    else:
        np.testing.assert_array_equal(min_dtw(predictions, listener, neighbours, "auto"), expected)
        with pytest.raises(ConfigError, match="device"):
            min_dtw(predictions, listener, neighbours, "cuda")
